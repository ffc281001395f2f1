#include "tools/cli_trace.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "tools/cli_util.h"
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
    if (cmd.json) {
      std::cout << stats.ToJson().dump(2) << "\n";
    } else {
      std::cout << cmd.file << " (" << cmd.format << ")\n" << stats.ToText();
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
