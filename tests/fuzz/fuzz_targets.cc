#include "tests/fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gpu/profile.h"
#include "sim/scenario.h"
#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "traces/workload.h"

#ifndef GPUSLICE_SOURCE_DIR
#error "GPUSLICE_SOURCE_DIR must name the source tree (the scenario and durations targets read files from it)"
#endif

namespace gpuslice::fuzz {
namespace {

using Json = nlohmann::ordered_json;

// At most this many arrivals are drawn from a trace's stream: more than the rows of an input
// of -max_len bytes, bounded for inputs that expand (per-minute counts, rate_scale copies).
constexpr long kMaxArrivals = 20'000;

std::string& LastError() {
  static std::string message;
  return message;
}

// A private folder for the files the readers open, removed at exit (left behind when the
// process dies on a finding; they are small).
const std::string& TempDir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/gpuslice-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("gpuslice fuzz: mkdtemp");
      std::abort();
    }
    static std::string kept = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(kept, ec);
    });
    return pattern;
  }();
  return dir;
}

std::string WriteTemp(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = TempDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(("gpuslice fuzz: writing " + path).c_str());
    std::abort();
  }
  return path;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  return WriteTemp(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::string SourcePath(const std::string& relative) { return std::string(GPUSLICE_SOURCE_DIR) + "/" + relative; }

[[noreturn]] void Finding(const std::string& what) {
  std::cerr << "gpuslice fuzz: FINDING: " << what << "\n";
  std::abort();
}

template <typename F>
Outcome Run(F&& body) {
  try {
    body();
    return Outcome::kAccepted;
  } catch (const InputError& e) {
    LastError() = e.what();
    // The message is one line (sim/util/error.h); a line break would split the log line
    // a user sees. Not checked: file names and echoed values may hold any byte.
    return Outcome::kInputError;
  }
}

// Transformations a trace source is read with, chosen by the input's size so that each
// input always gets the same ones (a saved input replays exactly).
void AddTraceOptions(size_t size, Json* source) {
  switch ((size / 3) % 6) {
    case 0:
      break;
    case 1:
      (*source)["skip_bad_rows"] = true;
      break;
    case 2:
      (*source)["spread"] = "even";
      (*source)["window_s"] = {0, 120};
      break;
    case 3:
      (*source)["spread"] = "uniform";
      (*source)["spread_s"] = 0.5;
      (*source)["rate_scale"] = 2.5;
      (*source)["skip_bad_rows"] = true;
      break;
    case 4:
      (*source)["rate_scale"] = 0.5;
      (*source)["time_scale"] = 3;
      (*source)["start_s"] = 5;
      (*source)["top_functions"] = 2;
      break;
    default:
      (*source)["skip_unknown_functions"] = true;
      (*source)["window_s"] = {1, 1e7};
      (*source)["skip_bad_rows"] = true;
      break;
  }
}

// ParseWorkload on a one-source workload, then the Workload's arrival stream drained (up to
// kMaxArrivals), checking that arrivals never go back in time and name known functions.
void ReadWorkload(const Json& source, long max_arrivals = kMaxArrivals) {
  Json workload = Json::array({source});
  std::vector<WorkloadSource> sources = ParseWorkload("fuzz.json", workload, "/workload", TempDir());
  NameIndex functions;
  for (const WorkloadSource& w : sources) {
    for (const std::string& name : w.functions) functions.emplace(name, static_cast<int32_t>(functions.size()));
  }
  Workload stream(sources, 1, functions);
  Arrival a{};
  SimTime last = std::numeric_limits<SimTime>::min();
  for (long n = 0; n < max_arrivals && stream.stream().Next(&a); ++n) {
    if (a.time < last) Finding("arrival " + std::to_string(n) + " goes back in time");
    if (a.function < 0 || static_cast<size_t>(a.function) >= functions.size()) {
      Finding("arrival " + std::to_string(n) + " names function " + std::to_string(a.function));
    }
    last = a.time;
  }
  (void)stream.skipped_rows();
  (void)stream.filtered_rows();
}

Outcome Trace(const char* type, const char* file_name, const uint8_t* data, size_t size,
              const Json& extra = Json::object()) {
  return Run([&] {
    Json source = {{"type", type}, {"file", WriteTemp(file_name, data, size)}};
    for (auto it = extra.begin(); it != extra.end(); ++it) source[it.key()] = it.value();
    AddTraceOptions(size, &source);
    ReadWorkload(source);
  });
}

// The Azure Functions 2019 sample's first rows, cut to 5 minutes: the invocations file the
// durations and memory targets join against (when the trace opens, before any arrival).
const std::string& SmallInvocations() {
  static const std::string path = [] {
    std::ifstream in(SourcePath("tests/fixtures/traces/azure-functions-2019-sample/invocations.csv"));
    if (!in) Finding("cannot read the Azure Functions 2019 sample under " GPUSLICE_SOURCE_DIR);
    std::string text, line;
    for (int row = 0; row < 12 && std::getline(in, line); ++row) {
      size_t cut = 0;
      for (int commas = 0; commas < 4 + 5 && cut != std::string::npos; ++commas) cut = line.find(',', cut + 1);
      text += line.substr(0, cut) + "\n";
    }
    return WriteTemp("invocations-small.csv", text);
  }();
  return path;
}

const char* Spacing(size_t size) {
  static const char* const kSpacings[] = {"uniform", "even", "poisson"};
  return kSpacings[size % 3];
}

// The `--set` target's base: a valid scenario without files to read.
constexpr const char* kSetBase = R"({
  "name": "fuzz-set", "seed": 1,
  "cluster": {"nodes": [{"count": 2, "gpus_per_node": 1, "gpu": "V100-16GB"}]},
  "models": {
    "a": {"latency_ms": 20, "slo_ms": 100, "memory_mb": 1000},
    "b": {"latency_ms": 5, "slo_ms": 50, "memory_mb": 500, "max_batch": 4}
  },
  "workload": [
    {"type": "poisson", "function": "a", "rate_rps": 10, "end_s": 10},
    {"type": "stages", "function": "b", "rates_rps": [1, 2, 3], "stage_s": 2}
  ],
  "policies": {"kserve": {"policy": "whole-gpu"}, "has-gpu": {"policy": "has-gpu"}}
})";

}  // namespace

const std::string& LastInputError() { return LastError(); }

Outcome ScenarioFile(const uint8_t* data, size_t size) {
  return Run([&] {
    // Relative paths resolve against scenarios/, as for a scenario stored there.
    Json root = ParseJsonFile(WriteTemp("scenario.json", data, size));
    gpuslice::Scenario s = ParseScenario(root, "scenario.json", SourcePath("scenarios"));
    (void)s.ToJson().dump();  // what validate prints and results store
  });
}

Outcome TraceCsv(const uint8_t* data, size_t size) { return Trace("csv", "trace.csv", data, size); }

Outcome TraceAzure2019(const uint8_t* data, size_t size) {
  // Rows are read when the trace opens; a few thousand arrivals go through the minutes' spacing.
  return Run([&] {
    Json source = {{"type", "azure-functions-2019"},
                   {"file", WriteTemp("invocations.csv", data, size)},
                   {"spacing", Spacing(size)}};
    AddTraceOptions(size, &source);
    ReadWorkload(source, 2'000);
  });
}

Outcome TraceAzure2019Durations(const uint8_t* data, size_t size) {
  const std::string& invocations = SmallInvocations();
  return Run([&] {
    Json source = {{"type", "azure-functions-2019"},
                   {"file", invocations},
                   {"durations", WriteTemp("durations.csv", data, size)},
                   {"spacing", Spacing(size)}};
    ReadWorkload(source, 100);
  });
}

Outcome TraceAzure2019Memory(const uint8_t* data, size_t size) {
  const std::string& invocations = SmallInvocations();
  return Run([&] {
    Json source = {{"type", "azure-functions-2019"},
                   {"file", invocations},
                   {"memory", WriteTemp("memory.csv", data, size)},
                   {"spacing", Spacing(size)}};
    ReadWorkload(source, 100);
  });
}

Outcome TraceAzure2021(const uint8_t* data, size_t size) {
  return Trace("azure-functions-2021", "azure2021.csv", data, size);
}

Outcome TraceAzureLlm(const uint8_t* data, size_t size) {
  return Trace("azure-llm", "azure-llm.csv", data, size, {{"function", "llm"}});
}

Outcome TraceAlibaba(const uint8_t* data, size_t size) {
  return Trace("alibaba-genai", "lora_request_trace.csv", data, size);
}

Outcome TraceMooncake(const uint8_t* data, size_t size) {
  return Trace("mooncake", "mooncake.jsonl", data, size, {{"function", "chat"}});
}

Outcome TraceStages(const uint8_t* data, size_t size) {
  return Run([&] {
    Json source = {{"type", "stages"}, {"function", "f"}, {"file", WriteTemp("stages.json", data, size)},
                   {"spacing", Spacing(size)}};
    if ((size / 3) % 2 == 1) source["stage_s"] = 0.5;  // else the file's parameters.duration
    ReadWorkload(source);
  });
}

Outcome ProfileCsv(const uint8_t* data, size_t size) {
  return Run([&] {
    LatencyProfile p = LatencyProfile::Load(WriteTemp("profile.csv", data, size));
    // Interpolation inside, between and outside the grid, as the simulator asks.
    for (double batch : {1.0, 2.5, static_cast<double>(p.batches().back()) + 3}) {
      for (double sm : {p.sm_percents().front() / 2, 33.3, 100.0}) {
        (void)p.LatencyFullQuotaMs(batch, sm);
        if (p.has_quota_grid()) {
          for (double quota : {1.0, 45.0, 100.0}) (void)p.GridMs(batch, sm, quota);
        }
      }
    }
    (void)p.MeasuredMs(p.batches().front(), p.sm_percents().front(), 100);
    (void)p.Points();
    (void)p.measured_cv();
  });
}

Outcome SetOverride(const uint8_t* data, size_t size) {
  return Run([&] {
    Json root = Json::parse(kSetBase);
    std::string_view text(reinterpret_cast<const char*>(data), size);
    int lines = 0;
    while (!text.empty() && lines++ < 16) {
      const size_t nl = text.find('\n');
      ApplyOverride(root, std::string(text.substr(0, nl)));
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    gpuslice::Scenario s = ParseScenario(root, "fuzz-set.json", SourcePath("scenarios"));
    (void)s.ToJson().dump();
  });
}

const std::vector<Target>& Targets() {
  static const std::vector<Target> targets = {
      {"scenario", ScenarioFile},
      {"trace_csv", TraceCsv},
      {"trace_azure2019", TraceAzure2019},
      {"trace_azure2019_durations", TraceAzure2019Durations},
      {"trace_azure2019_memory", TraceAzure2019Memory},
      {"trace_azure2021", TraceAzure2021},
      {"trace_azure_llm", TraceAzureLlm},
      {"trace_alibaba", TraceAlibaba},
      {"trace_mooncake", TraceMooncake},
      {"trace_stages", TraceStages},
      {"profile", ProfileCsv},
      {"set", SetOverride},
  };
  return targets;
}

const Target* FindTarget(const std::string& name) {
  for (const Target& t : Targets()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

}  // namespace gpuslice::fuzz
