#include "tools/cli_trace.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "sim/util/csv.h"
#include "sim/util/error.h"
#include "sim/util/files.h"
#include "sim/util/interrupt.h"
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

// The function a single-service trace's requests are named by when --function is not given:
// the file's stem, without a compression suffix ("AzureLLMInferenceTrace_conv" for
// AzureLLMInferenceTrace_conv.csv.gz), or "trace" when that is empty or not UTF-8.
std::string DefaultFunction(const std::string& file) {
  std::filesystem::path p = std::filesystem::path(file).filename();
  for (const char* ext : {".gz", ".xz", ".zst", ".bz2"}) {
    if (p.extension() == ext) p = p.stem();
  }
  std::string stem = p.stem().string();
  return stem.empty() || !IsValidUtf8(stem) ? "trace" : stem;
}

bool SingleService(const std::string& format) { return format == "azure-llm" || format == "mooncake"; }

LoadedTrace Load(const TraceCommand& cmd) {
  // The trace formats, and HAS-GPU's stage files.
  std::vector<std::string> formats = TraceFormats();
  formats.push_back("stages");
  if (std::find(formats.begin(), formats.end(), cmd.format) == formats.end()) {
    std::string known;
    for (const std::string& f : formats) known += (known.empty() ? "" : ", ") + f;
    throw InputError("--format: '" + cmd.format + "' is not a trace format (" + known + ")");
  }
  if (!IsValidUtf8(cmd.function)) throw InputError("--function: the name is not valid UTF-8");
  nlohmann::ordered_json source = {{"type", cmd.format}, {"file", cmd.file}};
  if (!cmd.function.empty()) {
    source["function"] = cmd.function;
  } else if (SingleService(cmd.format)) {
    source["function"] = DefaultFunction(cmd.file);
  }
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

namespace {

// -o's path, checked before the trace is read: not a folder, not something other than a
// regular file, not the trace itself, not an existing file without --force, and under a
// folder (the folders missing in between are made when writing).
void CheckOutput(const std::string& output, const std::string& input, bool force) {
  namespace fs = std::filesystem;
  if (output.empty()) throw InputError("trace convert needs -o FILE.csv");
  const std::string option = "-o/--output '" + output + "': ";
  std::error_code ec;
  const fs::file_status st = fs::status(output, ec);
  if (fs::is_directory(st)) throw InputError(option + "is a folder, not a file");
  if (fs::exists(st) && !fs::is_regular_file(st)) throw InputError(option + "exists and is not a regular file");
  if (fs::exists(st) && fs::equivalent(output, input, ec)) throw InputError(option + "is the trace being converted");
  if (fs::exists(st) && !force) {
    // As the other subcommands say it (tools/cli_util.h's CheckOutputPath).
    throw InputError(output + ": exists (use --force to overwrite it, or -o to write elsewhere)");
  }
  if (output.back() == '/') throw InputError(option + "names a folder, not a file");
  // The closest existing ancestor must be a folder ("out.csv/x.csv" lies under a file).
  for (fs::path a = fs::path(output).parent_path(); !a.empty(); a = a.parent_path()) {
    std::error_code aec;
    const fs::file_status as = fs::status(a, aec);
    if (fs::exists(as)) {
      if (!fs::is_directory(as)) throw InputError(option + a.string() + " is a file, not a folder");
      break;
    }
    if (a == a.parent_path()) break;
  }
}

// A temporary file beside the output (its missing folders made), renamed onto it by
// Commit(); removed, with the folders made for it, if never committed (an error, an
// interruption).
class TempOutput {
 public:
  explicit TempOutput(const std::string& path)
      : path_(path), temp_(path + ".tmp-" + std::to_string(::getpid())), made_(MakeParentFolders(path)) {
    file_ = std::fopen(temp_.c_str(), "wb");
    if (file_ == nullptr) {
      const int error = errno;
      RemoveFoldersIfEmpty(made_);
      throw InputError("-o/--output '" + path_ + "': cannot write: " + std::strerror(error));
    }
  }
  ~TempOutput() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) {
      std::remove(temp_.c_str());
      RemoveFoldersIfEmpty(made_);
    }
  }
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;

  FILE* file() { return file_; }
  void Commit() {
    const bool failed = std::ferror(file_) != 0;
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (failed || closed != 0) throw InputError("-o/--output '" + path_ + "': cannot write: " + std::strerror(errno));
    std::error_code ec;
    std::filesystem::rename(temp_, path_, ec);
    if (ec) throw InputError("-o/--output '" + path_ + "': cannot write: " + ec.message());
    committed_ = true;
  }

 private:
  std::string path_, temp_;
  std::vector<std::string> made_;
  FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace

int ExecuteTraceConvert(const TraceCommand& cmd) {
  return GuardedCommand([&] {
    CheckOutput(cmd.output, cmd.file, cmd.force);
    LoadedTrace t = Load(cmd);
    for (const std::string& name : t.names) {
      // CsvTrace reads fields with no quoting: a name with a comma or a line break would not
      // read back.
      if (name.find_first_of(",\r\n") != std::string::npos) {
        throw InputError(cmd.file + ": function '" + name + "' holds a comma or a line break, which the plain CSV cannot");
      }
    }
    Workload workload(t.sources, 1, t.index);
    const bool tokens = SingleService(cmd.format);
    TempOutput out(cmd.output);
    std::fputs(tokens ? "time_s,function,input_tokens,output_tokens\n" : "time_s,function\n", out.file());
    Arrival a;
    long long rows = 0;
    while (workload.stream().Next(&a)) {
      const std::string& name = t.names[static_cast<size_t>(a.function)];
      if (tokens) {
        std::fprintf(out.file(), "%lld.%09lld,%s,%d,%d\n", static_cast<long long>(a.time / kNsPerSecond),
                     static_cast<long long>(a.time % kNsPerSecond), name.c_str(), a.input_tokens, a.output_tokens);
      } else {
        std::fprintf(out.file(), "%lld.%09lld,%s\n", static_cast<long long>(a.time / kNsPerSecond),
                     static_cast<long long>(a.time % kNsPerSecond), name.c_str());
      }
      if (++rows % 4096 == 0) ThrowIfInterrupted();
    }
    ThrowIfInterrupted();
    out.Commit();
    std::cout << "wrote " << rows << " requests to " << cmd.output;
    if (workload.skipped_rows() > 0) std::cout << " (skipped " << workload.skipped_rows() << " bad rows)";
    std::cout << "\n";
    return 0;
  });
}

}  // namespace gpuslice
