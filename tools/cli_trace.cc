#include "tools/cli_trace.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "tools/cli_util.h"
#include "traces/azure_functions_2019.h"
#include "traces/trace_stats.h"
#include "traces/workload.h"

namespace gpuslice {
namespace {

// The one-source workload a trace command reads, and the names of its functions.
struct LoadedTrace {
  std::vector<WorkloadSource> sources;
  std::vector<std::string> names;
  NameIndex index;
};

LoadedTrace Load(const TraceCommand& cmd) {
  nlohmann::ordered_json source = {{"type", cmd.format}, {"file", cmd.file}};
  if (!cmd.function.empty()) source["function"] = cmd.function;
  if (cmd.skip_bad_rows) source["skip_bad_rows"] = true;
  nlohmann::ordered_json wrapper = {{"source", source}};
  for (const std::string& s : cmd.sets) ApplyOverride(wrapper["source"], s);
  nlohmann::ordered_json array = nlohmann::ordered_json::array({wrapper["source"]});
  LoadedTrace t;
  t.sources = ParseWorkload("command line", array, "/source", "");
  for (const std::string& name : t.sources[0].functions) {
    t.index.emplace(name, static_cast<int32_t>(t.names.size()));
    t.names.push_back(name);
  }
  return t;
}

}  // namespace

int ExecuteTraceInfo(const TraceCommand& cmd) {
  return GuardedCommand([&] {
    LoadedTrace t = Load(cmd);
    Workload workload(t.sources, 1, t.index);
    TraceStats stats = ComputeTraceStats(workload.stream(), t.names, cmd.top);
    stats.skipped_rows = workload.skipped_rows();
    stats.filtered_rows = workload.filtered_rows();
    nlohmann::ordered_json json = stats.ToJson();
    std::string text = stats.ToText();
    if (cmd.format == "azure-functions-2019") {
      // The joined durations and memory of the top functions.
      auto raw = OpenRawTrace(t.sources[0], 1, 0);
      const auto* azure = dynamic_cast<const AzureFunctions2019Trace*>(raw.get());
      std::unordered_map<std::string, const FunctionMetadata*> meta;
      if (azure != nullptr) {
        for (const FunctionMetadata& m : azure->functions()) meta[m.name] = &m;
      }
      text += "top functions' trigger, average duration (ms), average memory (MB); -1 = not given:\n";
      for (auto& top : json["top_functions"]) {
        auto it = meta.find(top["function"].get<std::string>());
        if (it == meta.end()) continue;
        top["trigger"] = it->second->trigger;
        top["average_duration_ms"] = it->second->average_duration_ms;
        top["average_memory_mb"] = it->second->average_memory_mb;
        text += "  " + it->second->name.substr(0, 12) + "  " + it->second->trigger + "  " +
                std::to_string(it->second->average_duration_ms) + "  " + std::to_string(it->second->average_memory_mb) +
                "\n";
      }
    }
    if (cmd.json) {
      std::cout << json.dump(2) << "\n";
    } else {
      std::cout << cmd.file << " (" << cmd.format << ")\n" << text;
    }
    return 0;
  });
}

int ExecuteTraceConvert(const TraceCommand& cmd) {
  return GuardedCommand([&] {
    if (cmd.output.empty()) throw InputError("trace convert needs -o FILE.csv");
    LoadedTrace t = Load(cmd);
    Workload workload(t.sources, 1, t.index);
    const bool tokens = cmd.format == "azure-llm" || cmd.format == "mooncake";
    const std::string temp = cmd.output + ".tmp";
    FILE* out = std::fopen(temp.c_str(), "wb");
    if (out == nullptr) throw InputError(cmd.output + ": cannot write");
    std::fputs(tokens ? "time_s,function,input_tokens,output_tokens\n" : "time_s,function\n", out);
    Arrival a;
    long long rows = 0;
    try {
      while (workload.stream().Next(&a)) {
        const std::string& name = t.names[static_cast<size_t>(a.function)];
        if (tokens) {
          std::fprintf(out, "%lld.%09lld,%s,%d,%d\n", static_cast<long long>(a.time / kNsPerSecond),
                       static_cast<long long>(a.time % kNsPerSecond), name.c_str(), a.input_tokens, a.output_tokens);
        } else {
          std::fprintf(out, "%lld.%09lld,%s\n", static_cast<long long>(a.time / kNsPerSecond),
                       static_cast<long long>(a.time % kNsPerSecond), name.c_str());
        }
        ++rows;
      }
    } catch (...) {
      std::fclose(out);
      std::remove(temp.c_str());
      throw;
    }
    if (std::fclose(out) != 0) {
      std::remove(temp.c_str());
      throw InputError(cmd.output + ": cannot write");
    }
    std::filesystem::rename(temp, cmd.output);
    std::cout << "wrote " << rows << " requests to " << cmd.output;
    if (workload.skipped_rows() > 0) std::cout << " (skipped " << workload.skipped_rows() << " bad rows)";
    std::cout << "\n";
    return 0;
  });
}

}  // namespace gpuslice
