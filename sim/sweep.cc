#include "sim/sweep.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/summary_json.h"
#include "sim/util/csv.h"
#include "sim/util/files.h"
#include "sim/util/hash.h"
#include "sim/util/json_reader.h"
#include "sim/util/stats.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string PointLabel(const SweepSpec& spec, const std::vector<Json>& values) {
  std::string label;
  for (size_t i = 0; i < values.size(); ++i) {
    label += (i ? ", " : "") + spec.grid[i].path + "=" + ParameterText(values[i]);
  }
  return label.empty() ? "the scenario" : label;
}

// (metric, JSON pointer into a RunSummaryJson's "overall").
const std::vector<std::pair<std::string, std::string>>& MetricPointers() {
  static const std::vector<std::pair<std::string, std::string>> metrics = {
      {"arrived", "/arrived"},
      {"completed", "/completed"},
      {"dropped_total", "/dropped/total"},
      {"violations", "/violations"},
      {"violation_rate", "/violation_rate"},
      {"slo_attainment", "/slo_attainment"},
      {"throughput_rps", "/throughput_rps"},
      {"latency_mean_ms", "/latency_ms/mean"},
      {"latency_p50_ms", "/latency_ms/p50"},
      {"latency_p90_ms", "/latency_ms/p90"},
      {"latency_p99_ms", "/latency_ms/p99"},
      {"latency_max_ms", "/latency_ms/max"},
      {"queue_wait_mean_ms", "/queue_wait_ms/mean"},
      {"queue_wait_p99_ms", "/queue_wait_ms/p99"},
      {"queue_wait_max_ms", "/queue_wait_ms/max"},
      {"cold_starts", "/cold_starts"},
      {"peak_instances", "/peak_instances"},
      {"mean_batch_size", "/mean_batch_size"},
      {"fractional_gpu_s", "/cost/fractional_gpu_s"},
      {"whole_gpu_s", "/cost/whole_gpu_s"},
      {"fractional_usd", "/cost/fractional_usd"},
      {"whole_usd", "/cost/whole_usd"},
      {"sm_seconds_held", "/sm_seconds/held"},
      {"sm_seconds_busy", "/sm_seconds/busy"},
      {"fragmentation", "/fragmentation"},
  };
  return metrics;
}

}  // namespace

std::string ParameterText(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

SweepSpec LoadSweepSpec(const std::string& path) {
  SweepSpec spec;
  spec.file = path;
  spec.json = ParseJsonFile(path);
  JsonObject root(path, spec.json, "");
  const fs::path scenario = root.String("scenario");
  spec.scenario_path = (scenario.is_absolute() ? scenario : fs::absolute(fs::path(path).parent_path() / scenario))
                           .lexically_normal()
                           .string();
  std::error_code ec;
  if (!fs::is_regular_file(spec.scenario_path, ec)) throw root.Error("scenario", "no such file: " + spec.scenario_path);
  if (root.Has("policies")) {
    const Json& p = root.Value("policies");
    if (!p.is_array() || p.empty()) throw root.Error("policies", "expected a non-empty list of policy run names");
    std::set<std::string> seen;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].is_string() || p[i].get<std::string>().empty() || p[i].get<std::string>().find(',') != std::string::npos) {
        throw JsonError(path, "/policies/" + std::to_string(i), "expected a policy run name");
      }
      if (!seen.insert(p[i].get<std::string>()).second) {
        throw JsonError(path, "/policies/" + std::to_string(i), "repeats " + p[i].dump());
      }
      spec.policies += (i ? "," : "") + p[i].get<std::string>();
    }
  }
  if (root.Has("set")) {
    JsonObject set = root.Object("set");
    for (auto it = set.json().begin(); it != set.json().end(); ++it) {
      if (it.key() == "seed") throw set.Error(it.key(), "give seeds with \"seeds\"");
      set.Value(it.key());
      spec.fixed.emplace_back(it.key(), it.value());
    }
  }
  if (root.Has("grid")) {
    JsonObject grid = root.Object("grid");
    for (auto it = grid.json().begin(); it != grid.json().end(); ++it) {
      if (it.key() == "seed") throw grid.Error(it.key(), "give seeds with \"seeds\"");
      const Json& values = grid.Value(it.key());
      if (!values.is_array() || values.empty()) throw grid.Error(it.key(), "expected a non-empty list of values");
      SweepParameter p{it.key(), {}};
      std::set<std::string> seen;
      for (size_t i = 0; i < values.size(); ++i) {
        if (!seen.insert(values[i].dump()).second) {
          throw JsonError(path, grid.PathOf(it.key()) + "/" + std::to_string(i), "repeats the value " + values[i].dump());
        }
        p.values.push_back(values[i]);
      }
      spec.grid.push_back(std::move(p));
    }
  }
  // Seeds: a count from the scenario's own seed (after "set"), or a list.
  if (root.Has("seeds") && root.Value("seeds").is_array()) {
    const Json& list = root.Value("seeds");
    if (list.empty()) throw root.Error("seeds", "expected a count or a non-empty list of seeds");
    std::set<uint64_t> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_unsigned()) {
        throw JsonError(path, "/seeds/" + std::to_string(i), "expected a seed (an integer >= 0)");
      }
      if (!seen.insert(list[i].get<uint64_t>()).second) {
        throw JsonError(path, "/seeds/" + std::to_string(i), "repeats seed " + list[i].dump());
      }
      spec.seeds.push_back(list[i].get<uint64_t>());
    }
  } else {
    const long long count = root.IntegerIn("seeds", 1, 1, 10000);
    Json scenario_json = ParseJsonFile(spec.scenario_path);
    uint64_t first = 1;
    if (scenario_json.is_object() && scenario_json.contains("seed") && scenario_json["seed"].is_number_unsigned()) {
      first = scenario_json["seed"].get<uint64_t>();
    }
    for (long long k = 0; k < count; ++k) spec.seeds.push_back(first + static_cast<uint64_t>(k));
  }
  root.String("name", fs::path(path).stem().string());
  root.RejectUnknownKeys();
  return spec;
}

std::vector<SweepRun> PlanSweep(const SweepSpec& spec) {
  const Json base = ParseJsonFile(spec.scenario_path);
  const std::string dir = fs::path(spec.scenario_path).parent_path().string();
  size_t points = 1;
  for (const SweepParameter& p : spec.grid) points *= p.values.size();
  std::vector<SweepRun> runs;
  for (size_t point = 0; point < points; ++point) {
    std::vector<Json> values(spec.grid.size());
    size_t rest = point;
    for (size_t i = spec.grid.size(); i-- > 0;) {
      values[i] = spec.grid[i].values[rest % spec.grid[i].values.size()];
      rest /= spec.grid[i].values.size();
    }
    Json root = base;
    Scenario scenario;
    std::vector<PolicyRunSpec> policy_runs;
    try {
      for (const auto& [path, value] : spec.fixed) SetJsonPath(root, path, value, spec.file + ": /set/" + path);
      for (size_t i = 0; i < spec.grid.size(); ++i) {
        SetJsonPath(root, spec.grid[i].path, values[i], spec.file + ": /grid/" + spec.grid[i].path);
      }
      scenario = ParseScenario(root, spec.scenario_path, dir);
      policy_runs = SelectPolicyRuns(scenario, spec.policies);
    } catch (const InputError& e) {
      throw InputError(spec.file + ": at " + PointLabel(spec, values) + ": " + e.what());
    }
    for (const PolicyRunSpec& policy_run : policy_runs) {
      Json resolved = scenario.ToJson(&policy_run);
      for (uint64_t seed : spec.seeds) {
        SweepRun run;
        run.point = point;
        run.values = values;
        run.policy = policy_run.run_name;
        run.seed = seed;
        run.scenario = resolved;
        run.scenario["seed"] = seed;
        run.key = StableHashHex(run.scenario.dump());
        runs.push_back(std::move(run));
      }
    }
  }
  return runs;
}

std::vector<std::string> DistinctKeys(const std::vector<SweepRun>& runs) {
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const SweepRun& r : runs) {
    if (seen.insert(r.key).second) keys.push_back(r.key);
  }
  return keys;
}

RunResult ExecuteSweepRun(const SweepRun& run, const std::string& spec_file, const RunOptions& options) {
  const Scenario scenario =
      ParseScenario(run.scenario, spec_file + " (run " + run.key + ")", fs::current_path().string());
  return RunSimulation(scenario, scenario.policies.front(), options);
}

std::string StoredRunPath(const std::string& dir, const std::string& key) {
  return (fs::path(dir) / "runs" / (key + ".json")).string();
}

void StoreRun(const std::string& dir, const SweepRun& run, const RunResult& result) {
  Json record;
  record["key"] = run.key;
  record["policy"] = run.policy;
  record["seed"] = run.seed;
  record["gpuslice_version"] = GPUSLICE_VERSION;
  record["wall_s"] = result.wall_s;
  record["scenario"] = run.scenario;
  record["summary"] = RunSummaryJson(result);
  WriteFileAtomically(StoredRunPath(dir, run.key), record.dump() + "\n");
}

std::optional<Json> LoadStoredRun(const std::string& dir, const SweepRun& run) {
  const std::string path = StoredRunPath(dir, run.key);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  Json record;
  try {
    record = ParseJsonFile(path);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (a stored run: delete it to run it again)");
  }
  if (!record.is_object() || !record.contains("scenario") || !record.contains("summary") ||
      !record["summary"].contains("overall")) {
    throw InputError(path + ": not a stored sweep run (delete it to run it again)");
  }
  if (record["scenario"] != run.scenario) {
    throw InputError(path + ": stored for another scenario than the run it is keyed by (a key collision, or an "
                     "edited file); move it away to run it again");
  }
  return record["summary"];
}

const std::vector<std::string>& SweepMetrics() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, pointer] : MetricPointers()) v.push_back(name);
    return v;
  }();
  return names;
}

std::vector<double> SweepMetricValues(const Json& summary) {
  std::vector<double> values;
  const Json& overall = summary.at("overall");
  for (const auto& [name, pointer] : MetricPointers()) {
    values.push_back(overall.at(Json::json_pointer(pointer)).get<double>());
  }
  return values;
}

SweepTables BuildSweepTables(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                             const std::map<std::string, Json>& summaries) {
  SweepTables t;
  for (const SweepParameter& p : spec.grid) t.parameters.push_back(p.path);
  t.metrics = SweepMetrics();
  for (size_t i = 0; i < runs.size();) {
    // Runs of one (point, policy run) are consecutive in plan order: its seeds.
    size_t end = i;
    while (end < runs.size() && runs[end].point == runs[i].point && runs[end].policy == runs[i].policy) ++end;
    std::vector<std::vector<double>> per_metric(t.metrics.size());
    for (size_t k = i; k < end; ++k) {
      SweepTables::RunRow row{runs[k].values, runs[k].policy, runs[k].seed, runs[k].key,
                              SweepMetricValues(summaries.at(runs[k].key))};
      for (size_t m = 0; m < row.metrics.size(); ++m) per_metric[m].push_back(row.metrics[m]);
      t.runs.push_back(std::move(row));
    }
    SweepTables::SummaryRow s{runs[i].values, runs[i].policy, static_cast<int>(end - i), {}, {}, {}};
    for (const std::vector<double>& values : per_metric) {
      const MeanCi95 ci = MeanWithCi95(values);
      s.mean.push_back(ci.mean);
      s.ci95_low.push_back(ci.low());
      s.ci95_high.push_back(ci.high());
    }
    t.summary.push_back(std::move(s));
    i = end;
  }
  return t;
}

std::string RunsCsv(const SweepTables& t) {
  std::ostringstream out;
  for (const std::string& p : t.parameters) out << CsvField(p) << ",";
  out << "policy,seed,key";
  for (const std::string& m : t.metrics) out << "," << m;
  out << "\n";
  for (const SweepTables::RunRow& r : t.runs) {
    for (const Json& v : r.values) out << CsvField(ParameterText(v)) << ",";
    out << CsvField(r.policy) << "," << r.seed << "," << r.key;
    for (double v : r.metrics) out << "," << ExactNumber(v);
    out << "\n";
  }
  return out.str();
}

std::string SummaryCsv(const SweepTables& t) {
  std::ostringstream out;
  for (const std::string& p : t.parameters) out << CsvField(p) << ",";
  out << "policy,seeds";
  for (const std::string& m : t.metrics) out << "," << m << "_mean," << m << "_ci95_low," << m << "_ci95_high";
  out << "\n";
  for (const SweepTables::SummaryRow& r : t.summary) {
    for (const Json& v : r.values) out << CsvField(ParameterText(v)) << ",";
    out << CsvField(r.policy) << "," << r.seeds;
    for (size_t m = 0; m < r.mean.size(); ++m) {
      out << "," << ExactNumber(r.mean[m]) << "," << ExactNumber(r.ci95_low[m]) << "," << ExactNumber(r.ci95_high[m]);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace gpuslice
