#include "traces/workload.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <unordered_map>

#include "sim/util/csv.h"
#include "sim/util/json_reader.h"
#include "traces/azure_functions_2019.h"
#include "traces/azure_functions_2021.h"
#include "traces/csv_trace.h"
#include "traces/generators.h"
#include "traces/llm_traces.h"
#include "traces/poisson.h"
#include "traces/stages.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

// "#k" for k > 0, else "": tells apart the random streams of repeated sources and copies.
std::string CopySuffix(int k) {
  std::string suffix;
  if (k > 0) suffix.append("#").append(std::to_string(k));
  return suffix;
}

// A trace or stages file must be a regular file: a FIFO blocks the reader, a device never ends.
void RequireRegularFile(const JsonObject& src, const char* key, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw src.Error(key, "no such file: " + path);
  if (std::filesystem::is_directory(path, ec)) throw src.Error(key, path + " is a folder, not a file");
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw src.Error(key, path + " is not a regular file (a FIFO or a device)");
  }
}

const std::vector<std::string> kGenerators = {"poisson", "gamma", "mmpp", "diurnal", "stages", "population"};

std::string PopulationName(const WorkloadSource& w, int i) {
  const int digits = std::max(4, static_cast<int>(std::to_string(w.population - 1).size()));
  std::string n = std::to_string(i);
  return w.name_prefix + std::string(static_cast<size_t>(digits) - n.size(), '0') + n;
}

void ReadStagesFile(const JsonObject& src, const std::string& path, WorkloadSource* out) {
  Json doc = ParseJsonFile(path);
  JsonObject root(path, doc, "");
  const Json& counts = root.Value("processed_request_counts");
  if (!counts.is_array() || counts.empty()) {
    throw JsonError(path, "/processed_request_counts", "expected a non-empty array of rates");
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    if (!counts[i].is_number() || counts[i].get<double>() < 0) {
      throw JsonError(path, "/processed_request_counts/" + std::to_string(i), "expected a number >= 0");
    }
    out->rates_rps.push_back(counts[i].get<double>());
  }
  if (!src.Has("stage_s") && doc.contains("parameters") && doc["parameters"].contains("duration")) {
    const Json& d = doc["parameters"]["duration"];
    std::string text = d.is_string() ? d.get<std::string>() : "";
    try {
      size_t used = 0;
      double seconds = std::stod(text, &used);
      if (text.substr(used) != "s" || !(seconds > 0)) throw std::invalid_argument(text);
      out->stage_s = seconds;
    } catch (const std::exception&) {
      throw JsonError(path, "/parameters/duration", "expected a duration like \"5s\", got " + d.dump());
    }
  }
}

std::vector<double> NumberArray(const JsonObject& src, const char* key, size_t exact_size) {
  const Json& a = src.Value(key);
  if (!a.is_array() || a.empty() || (exact_size > 0 && a.size() != exact_size)) {
    throw src.Error(key, exact_size > 0 ? "expected an array of " + std::to_string(exact_size) + " numbers"
                                        : "expected a non-empty array of numbers");
  }
  std::vector<double> out;
  for (size_t k = 0; k < a.size(); ++k) {
    const std::string where = src.PathOf(key) + "/" + std::to_string(k);
    if (!a[k].is_number() || a[k].get<double>() < 0) throw JsonError(src.file(), where, "expected a number >= 0");
    const double v = a[k].get<double>();
    const std::string_view name(key);
    if (name.ends_with("_s") && v > kMaxInputSeconds) {
      throw JsonError(src.file(), where, "must be at most 1e9 s (about 31.7 years; simulated time is int64 nanoseconds)");
    }
    if (name.ends_with("_rps") && v > kMaxSourceRps) {
      throw JsonError(src.file(), where, "must be at most " + std::to_string(static_cast<long long>(kMaxSourceRps)) +
                                             " requests/s (one source's limit)");
    }
    out.push_back(v);
  }
  return out;
}

void ParseGenerator(const JsonObject& src, const std::string& base_dir, WorkloadSource* w) {
  auto end = [&]() {
    w->end_s = src.Positive("end_s");
    if (w->end_s <= w->start_s) throw src.Error("end_s", "must be after start_s");
  };
  if (w->type != "population") {
    w->function = src.String("function");
    if (w->function.empty()) throw src.Error("function", "must not be empty");
  }
  if (w->type == "poisson") {
    w->rate_rps = src.Positive("rate_rps");
    end();
  } else if (w->type == "gamma") {
    w->rate_rps = src.Positive("rate_rps");
    if (!src.Has("cv")) src.Positive("cv");  // required: raises "missing required key"
    w->cv = src.NumberIn("cv", 1.0, 0.01, 100.0, "the gamma shape 1/cv^2 stays within [1e-4, 1e4]");
    end();
  } else if (w->type == "mmpp") {
    std::vector<double> rates = NumberArray(src, "rates_rps", 2);
    std::vector<double> sojourns = NumberArray(src, "mean_sojourn_s", 2);
    if (rates[0] + rates[1] <= 0) throw src.Error("rates_rps", "at least one rate must be > 0");
    if (sojourns[0] < kMinSojournSeconds || sojourns[1] < kMinSojournSeconds) {
      throw src.Error("mean_sojourn_s", "must be at least 0.001 s (each sojourn is a state switch to simulate)");
    }
    w->rates_rps = rates;
    w->sojourn_s[0] = sojourns[0];
    w->sojourn_s[1] = sojourns[1];
    end();
  } else if (w->type == "diurnal") {
    w->rate_rps = src.Positive("mean_rps");
    w->amplitude = src.NonNegative("amplitude", 0.5);
    if (w->amplitude > 1) throw src.Error("amplitude", "must be in [0, 1]");
    w->period_s = src.NumberIn("period_s", 86400.0, 1.0, kMaxInputSeconds, "seconds");
    w->peak_s = src.NonNegative("peak_s", 14 * 3600.0);
    end();
  } else if (w->type == "stages") {
    w->stage_s = src.NonNegative("stage_s", 0.0);
    if (src.Has("stage_s") && w->stage_s == 0) throw src.Error("stage_s", "must be > 0 (got 0)");
    if (w->stage_s > 0 && w->stage_s < kMinIntervalSeconds) throw src.Error("stage_s", "must be at least 0.001 s");
    w->spacing = src.String("spacing", "even");
    if (w->spacing != "even" && w->spacing != "uniform" && w->spacing != "poisson") {
      throw src.Error("spacing", "must be \"even\", \"uniform\" or \"poisson\"");
    }
    src.String("source_file", "");  // written by the resolved echo; informational only
    if (src.Has("file") == src.Has("rates_rps")) throw src.Error("give exactly one of \"file\" and \"rates_rps\"");
    if (src.Has("file")) {
      w->path = ResolvePath(base_dir, src.String("file"));
      RequireRegularFile(src, "file", w->path);
      ReadStagesFile(src, w->path, w);
    } else {
      w->rates_rps = NumberArray(src, "rates_rps", 0);
    }
    if (w->stage_s <= 0) throw src.Error("stage_s", "missing required key (the stage length in seconds)");
    w->end_s = w->start_s + w->stage_s * static_cast<double>(w->rates_rps.size());
    if (w->end_s > kMaxInputSeconds) {
      throw src.Error("stage_s", "the stages end at " + std::to_string(w->end_s) +
                                     " s, past 1e9 s (about 31.7 years; simulated time is int64 nanoseconds)");
    }
  } else {  // population
    w->population = static_cast<int>(src.IntegerIn("functions", 100, 1, kMaxPopulation));
    w->name_prefix = src.String("name_prefix", "fn");
    w->rate_rps = src.Positive("total_rps");
    w->zipf_s = src.NonNegative("zipf_s", 1.0);
    static const Json kNoShapes = Json::object();
    JsonObject shapes = src.Has("shapes") ? src.Object("shapes") : JsonObject(src.file(), kNoShapes, src.PathOf("shapes"));
    w->mix[0] = shapes.NonNegative("poisson", src.Has("shapes") ? 0.0 : 0.5);
    w->mix[1] = shapes.NonNegative("diurnal", src.Has("shapes") ? 0.0 : 0.3);
    w->mix[2] = shapes.NonNegative("bursty", src.Has("shapes") ? 0.0 : 0.2);
    shapes.RejectUnknownKeys();
    if (w->mix[0] + w->mix[1] + w->mix[2] <= 0) throw src.Error("shapes", "needs a weight > 0");
    w->amplitude = src.NonNegative("diurnal_amplitude", 0.5);
    if (w->amplitude > 1) throw src.Error("diurnal_amplitude", "must be in [0, 1]");
    w->period_s = src.NumberIn("period_s", 86400.0, 1.0, kMaxInputSeconds, "seconds");
    w->burst_ratio = src.NumberIn("burst_ratio", 10.0, 1e-3, 1e4);
    end();
  }
}

// Reads the trace once: its functions, in order of first appearance, and their counts.
void Discover(WorkloadSource* w) {
  std::unordered_map<std::string, long long> counts;
  std::vector<std::string> order;
  std::unique_ptr<RawTrace> raw = OpenRawTrace(*w, 0, 0);
  raw->CountFunctions(&counts, &order);
  w->trace_last_s = SimToSeconds(raw->last_time());
  for (const std::string& name : order) {
    w->functions.push_back(name);
    w->function_counts.push_back(static_cast<double>(counts[name]));
  }
}

void ParseTrace(const JsonObject& src, const std::string& base_dir, WorkloadSource* w) {
  w->is_trace = true;
  w->path = ResolvePath(base_dir, src.String("file"));
  RequireRegularFile(src, "file", w->path);
  w->skip_bad_rows = src.Bool("skip_bad_rows", false);
  w->skip_unknown_functions = src.Bool("skip_unknown_functions", false);
  if (w->type == "azure-functions-2019") {
    for (const char* key : {"durations", "memory"}) {
      if (!src.Has(key)) continue;
      std::string p = ResolvePath(base_dir, src.String(key));
      RequireRegularFile(src, key, p);
      (std::string(key) == "durations" ? w->durations_path : w->memory_path) = p;
    }
    w->spacing = src.String("spacing", "uniform");
    if (w->spacing != "uniform" && w->spacing != "even" && w->spacing != "poisson") {
      throw src.Error("spacing", "must be \"uniform\", \"even\" or \"poisson\"");
    }
  }
  if (w->type == "azure-llm" || w->type == "mooncake") {
    w->function = src.String("function");
    if (w->function.empty()) throw src.Error("function", "must not be empty");
  }
  if (w->type == "alibaba-genai") w->function_column = src.String("function_column", "checkpoint_model_version_id");
  w->spread = src.String("spread", "none");
  if (w->spread != "none" && w->spread != "even" && w->spread != "uniform") {
    throw src.Error("spread", "must be \"none\", \"even\" or \"uniform\"");
  }
  w->spread_s = src.Positive("spread_s", 1.0);
  if (src.Has("window_s")) {
    std::vector<double> window = NumberArray(src, "window_s", 2);
    if (window[1] <= window[0]) throw src.Error("window_s", "end must be after start");
    w->transform.window_start_s = window[0];
    w->transform.window_end_s = window[1];
  }
  w->rate_scale = src.Positive("rate_scale", 1.0);
  if (w->rate_scale > kMaxTraceCopies) {
    throw src.Error("rate_scale", "must be at most " + std::to_string(kMaxTraceCopies) +
                                      " (a scale above 1 replays that many shifted copies of the trace)");
  }
  w->copy_shift_s = src.NonNegative("copy_shift_s", 1.0);
  w->transform.time_scale = src.NumberIn("time_scale", 1.0, 1e-6, 1e6, "> 1 replays faster");
  w->transform.offset = SecondsToSim(w->start_s);
  const int top = static_cast<int>(src.IntegerIn("top_functions", 0, 0, 100'000'000));
  std::vector<std::string> only;
  if (src.Has("functions")) {
    const Json& a = src.Value("functions");
    if (!a.is_array() || a.empty()) throw src.Error("functions", "expected a non-empty array of names");
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) throw JsonError(src.file(), src.PathOf("functions") + "/" + std::to_string(i), "expected a name");
      only.push_back(a[i].get<std::string>());
    }
  }
  Discover(w);
  if (!only.empty()) {
    std::vector<std::string> names;
    std::vector<double> counts;
    for (const std::string& name : only) {
      auto it = std::find(w->functions.begin(), w->functions.end(), name);
      if (it == w->functions.end()) throw src.Error("functions", "function '" + name + "' does not occur in " + w->path);
      names.push_back(name);
      counts.push_back(w->function_counts[static_cast<size_t>(it - w->functions.begin())]);
    }
    w->functions = names;
    w->function_counts = counts;
  }
  if (top > 0 && static_cast<size_t>(top) < w->functions.size()) {
    std::vector<size_t> rank(w->functions.size());
    std::iota(rank.begin(), rank.end(), 0);
    std::stable_sort(rank.begin(), rank.end(),
                     [&](size_t a, size_t b) { return w->function_counts[a] > w->function_counts[b]; });
    rank.resize(static_cast<size_t>(top));
    std::sort(rank.begin(), rank.end());  // back to order of first appearance
    std::vector<std::string> names;
    std::vector<double> counts;
    for (size_t i : rank) {
      names.push_back(w->functions[i]);
      counts.push_back(w->function_counts[i]);
    }
    w->functions = names;
    w->function_counts = counts;
  }
  for (double& c : w->function_counts) c *= w->rate_scale;
  std::string stem = std::filesystem::path(w->path).filename().string();
  w->rng_name = "trace/" + stem;
}

void Resolve(WorkloadSource* w, const JsonObject& src) {
  Json& j = w->resolved;
  j = src.json();
  j["type"] = w->type;
  j["start_s"] = w->start_s;
  if (w->type == "stages") {
    j.erase("file");
    j["rates_rps"] = w->rates_rps;
    j["stage_s"] = w->stage_s;
    j["spacing"] = w->spacing;
    if (!w->path.empty()) j["source_file"] = w->path;
  }
  if (w->is_trace) {
    j["file"] = w->path;
    j["skip_bad_rows"] = w->skip_bad_rows;
    j["rate_scale"] = w->rate_scale;
    j["time_scale"] = w->transform.time_scale;
    j["spread"] = w->spread;
    if (!w->durations_path.empty()) j["durations"] = w->durations_path;
    if (!w->memory_path.empty()) j["memory"] = w->memory_path;
    if (!w->spacing.empty()) j["spacing"] = w->spacing;
  }
  if (w->type == "diurnal") {
    j["amplitude"] = w->amplitude;
    j["period_s"] = w->period_s;
    j["peak_s"] = w->peak_s;
  }
  if (w->type == "population") {
    j["functions"] = w->population;
    j["name_prefix"] = w->name_prefix;
    j["zipf_s"] = w->zipf_s;
    j["shapes"] = {{"poisson", w->mix[0]}, {"diurnal", w->mix[1]}, {"bursty", w->mix[2]}};
    j["diurnal_amplitude"] = w->amplitude;
    j["period_s"] = w->period_s;
    j["burst_ratio"] = w->burst_ratio;
  }
}

}  // namespace

const std::vector<std::string>& TraceFormats() {
  static const std::vector<std::string> formats = {"csv", "azure-functions-2019", "azure-functions-2021",
                                                   "azure-llm", "alibaba-genai", "mooncake"};
  return formats;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  // Absolute, so that the resolved scenario echoed with every result loads from anywhere.
  std::filesystem::path p(path);
  if (!p.is_absolute()) p = std::filesystem::path(base_dir) / p;
  return std::filesystem::absolute(p).lexically_normal().string();
}

std::unique_ptr<RawTrace> OpenRawTrace(const WorkloadSource& w, uint64_t seed, int copy) {
  const std::string suffix = CopySuffix(copy);
  std::unique_ptr<RawTrace> raw;
  if (w.type == "csv") {
    raw = std::make_unique<CsvTrace>(w.path, w.skip_bad_rows);
  } else if (w.type == "azure-functions-2019") {
    MinuteSpacing s = w.spacing == "even" ? MinuteSpacing::kEven
                      : w.spacing == "poisson" ? MinuteSpacing::kPoisson
                                               : MinuteSpacing::kUniform;
    raw = std::make_unique<AzureFunctions2019Trace>(w.path, w.durations_path, w.memory_path, s,
                                                    RngStream(seed, w.rng_name + "/minutes" + suffix), w.skip_bad_rows);
  } else if (w.type == "azure-functions-2021") {
    raw = std::make_unique<AzureFunctions2021Trace>(w.path, w.skip_bad_rows);
  } else if (w.type == "azure-llm") {
    raw = std::make_unique<AzureLlmTrace>(w.path, w.function, w.skip_bad_rows);
  } else if (w.type == "alibaba-genai") {
    raw = std::make_unique<AlibabaGenAiTrace>(w.path, w.function_column, w.skip_bad_rows);
  } else if (w.type == "mooncake") {
    raw = std::make_unique<MooncakeTrace>(w.path, w.function, w.skip_bad_rows);
  } else {
    throw std::logic_error("OpenRawTrace: not a trace type: " + w.type);
  }
  if (w.spread != "none" && !w.spread.empty()) {
    raw = std::make_unique<SpreadTrace>(std::move(raw), SecondsToSim(w.spread_s),
                                        w.spread == "even" ? SpreadTrace::Mode::kEven : SpreadTrace::Mode::kUniform,
                                        RngStream(seed, w.rng_name + "/spread" + suffix));
  }
  return raw;
}

std::vector<WorkloadSource> ParseWorkload(const std::string& file, const Json& array, const std::string& pointer,
                                          const std::string& base_dir) {
  if (!array.is_array() || array.empty()) {
    throw JsonError(file, pointer, "expected a non-empty array of workload sources");
  }
  std::vector<WorkloadSource> sources;
  std::unordered_map<std::string, int> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    JsonObject src(file, array[i], pointer + "/" + std::to_string(i));
    WorkloadSource w;
    w.where = file + ": " + src.pointer();
    w.type = src.String("type");
    w.start_s = src.NonNegative("start_s", 0.0);
    const bool generator = std::find(kGenerators.begin(), kGenerators.end(), w.type) != kGenerators.end();
    const bool trace = std::find(TraceFormats().begin(), TraceFormats().end(), w.type) != TraceFormats().end();
    if (generator) {
      ParseGenerator(src, base_dir, &w);
      if (w.type == "population") {
        double h = 0;
        for (int k = 1; k <= w.population; ++k) h += std::pow(k, -w.zipf_s);
        for (int k = 0; k < w.population; ++k) {
          w.functions.push_back(PopulationName(w, k));
          w.function_counts.push_back(w.rate_rps * std::pow(k + 1, -w.zipf_s) / h * (w.end_s - w.start_s));
        }
        w.rng_name = "population/" + w.name_prefix;
      } else {
        double expected = 0;
        if (w.type == "stages") {
          for (double r : w.rates_rps) expected += r * w.stage_s;
        } else if (w.type == "mmpp") {
          expected = (w.rates_rps[0] * w.sojourn_s[0] + w.rates_rps[1] * w.sojourn_s[1]) /
                     (w.sojourn_s[0] + w.sojourn_s[1]) * (w.end_s - w.start_s);
        } else {
          expected = w.rate_rps * (w.end_s - w.start_s);
        }
        w.functions = {w.function};
        w.function_counts = {expected};
        const int k = seen[w.function]++;
        w.rng_name = "arrivals/" + w.function + CopySuffix(k);
      }
    } else if (trace) {
      ParseTrace(src, base_dir, &w);
    } else {
      std::string known;
      for (const auto& t : kGenerators) known += (known.empty() ? "" : ", ") + t;
      for (const auto& t : TraceFormats()) known += ", " + t;
      throw src.Error("type", "unknown workload type '" + w.type + "' (" + known + ")");
    }
    Resolve(&w, src);
    src.RejectUnknownKeys();
    sources.push_back(std::move(w));
  }
  CheckWorkloadBounds(sources, "");
  return sources;
}

void CheckWorkloadBounds(const std::vector<WorkloadSource>& sources, const std::string& context) {
  const std::string after = context.empty() ? "" : " (after " + context + ")";
  double expected = 0;
  for (const WorkloadSource& w : sources) {
    if (w.is_trace) {
      if (w.rate_scale > kMaxTraceCopies) {
        throw InputError(w.where + "/rate_scale: " + ExactNumber(w.rate_scale) + " is above " +
                         std::to_string(kMaxTraceCopies) + " copies of the trace" + after);
      }
      // Where the trace's last record lands in the run: window, time scale, start and the
      // shift of the last copy.
      double last = w.trace_last_s;
      if (w.transform.window_end_s > 0) last = std::min(last, w.transform.window_end_s);
      last = std::max(0.0, last - w.transform.window_start_s) / w.transform.time_scale + w.start_s +
             w.copy_shift_s * std::max(0.0, std::ceil(w.rate_scale - 1e-12) - 1);
      if (last > kMaxInputSeconds) {
        throw InputError(w.where + ": the trace's last record (" + ExactNumber(w.trace_last_s) +
                         " s) would arrive at " + ExactNumber(last) +
                         " s of the run (window_s, time_scale, start_s, copies), past 1e9 s (about 31.7 years; "
                         "simulated time is int64 nanoseconds)" + after);
      }
    } else {
      double peak = w.rate_rps;  // poisson, gamma, diurnal (mean), population (total)
      for (double r : w.rates_rps) peak = std::max(peak, r);  // mmpp, stages
      if (peak > kMaxSourceRps) {
        throw InputError(w.where + ": a rate of " + ExactNumber(peak) + " requests/s; one source may have at most " +
                         ExactNumber(kMaxSourceRps) + after);
      }
    }
    for (double c : w.function_counts) expected += c;
  }
  if (expected > kMaxExpectedRequests) {
    throw InputError(sources.front().where.substr(0, sources.front().where.find(": ")) + ": /workload: about " +
                     ExactNumber(std::round(expected)) + " requests expected; at most " +
                     ExactNumber(kMaxExpectedRequests) + " are supported in one run" + after);
  }
}

Workload::Workload(const std::vector<WorkloadSource>& sources, uint64_t seed, const NameIndex& functions) {
  std::vector<std::unique_ptr<ArrivalStream>> streams;
  for (const WorkloadSource& w : sources) {
    const SimTime start = SecondsToSim(w.start_s);
    const SimTime end = SecondsToSim(w.end_s);
    auto id_of = [&](const std::string& name) {
      auto it = functions.find(name);
      return it == functions.end() ? -1 : it->second;
    };
    if (w.is_trace) {
      auto emit = std::make_unique<NameIndex>();
      for (const std::string& name : w.functions) {
        const int32_t id = id_of(name);
        if (id >= 0) emit->emplace(name, id);
      }
      // rate_scale = n + f: n full copies, and one more thinned to f; copies are shifted.
      const int copies = std::max(1, static_cast<int>(std::ceil(w.rate_scale - 1e-12)));
      for (int c = 0; c < copies; ++c) {
        TraceTransform t = w.transform;
        const double remaining = w.rate_scale - c;
        t.keep = std::min(1.0, remaining);
        t.offset += SecondsToSim(w.copy_shift_s * c);
        const std::string suffix = CopySuffix(c);
        auto stream = std::make_unique<TraceStream>(OpenRawTrace(w, seed, c), emit.get(), w.skip_bad_rows, t,
                                                    RngStream(seed, w.rng_name + "/thin" + suffix));
        traces_.push_back(stream.get());
        streams.push_back(std::move(stream));
      }
      emit_.push_back(std::move(emit));
      continue;
    }
    if (w.type == "population") {
      RngStream shapes(seed, w.rng_name + "/shapes");
      const double total_weight = w.mix[0] + w.mix[1] + w.mix[2];
      for (size_t k = 0; k < w.functions.size(); ++k) {
        const int32_t id = id_of(w.functions[k]);
        const double rate = w.function_counts[k] / (w.end_s - w.start_s);
        const double u = shapes.Uniform() * total_weight;
        const double phase = shapes.Uniform() * w.period_s;
        if (id < 0 || rate <= 0) continue;
        RngStream rng(seed, "arrivals/" + w.functions[k]);
        if (u < w.mix[0]) {
          streams.push_back(std::make_unique<PoissonStream>(id, rate, start, end, rng));
        } else if (u < w.mix[0] + w.mix[1]) {
          streams.push_back(std::make_unique<DiurnalStream>(id, rate, w.amplitude, w.period_s, phase, start, end, rng));
        } else {
          // On/off bursts: on for 10 s at burst_ratio × the off rate, off for 50 s on
          // average, scaled so that the mean rate is `rate`.
          const double on_s = 10, off_s = 50;
          const double off_rate = rate * (on_s + off_s) / (off_s + w.burst_ratio * on_s);
          streams.push_back(std::make_unique<MmppStream>(id, off_rate, off_rate * w.burst_ratio, off_s, on_s, start,
                                                         end, rng));
        }
      }
      continue;
    }
    const int32_t id = id_of(w.function);
    if (id < 0) continue;
    RngStream rng(seed, w.rng_name);
    if (w.type == "poisson") {
      streams.push_back(std::make_unique<PoissonStream>(id, w.rate_rps, start, end, rng));
    } else if (w.type == "gamma") {
      streams.push_back(std::make_unique<GammaStream>(id, w.rate_rps, w.cv, start, end, rng));
    } else if (w.type == "mmpp") {
      streams.push_back(std::make_unique<MmppStream>(id, w.rates_rps[0], w.rates_rps[1], w.sojourn_s[0], w.sojourn_s[1],
                                                     start, end, rng));
    } else if (w.type == "diurnal") {
      streams.push_back(std::make_unique<DiurnalStream>(id, w.rate_rps, w.amplitude, w.period_s, w.peak_s, start, end, rng));
    } else if (w.type == "stages") {
      StageSpacing spacing = w.spacing == "even"      ? StageSpacing::kEven
                             : w.spacing == "uniform" ? StageSpacing::kUniform
                                                      : StageSpacing::kPoisson;
      streams.push_back(std::make_unique<StagesStream>(id, w.rates_rps, SecondsToSim(w.stage_s), start, spacing, rng));
    }
  }
  if (streams.size() == 1) {
    stream_ = std::move(streams.front());
  } else {
    stream_ = std::make_unique<MergedStream>(std::move(streams));
  }
}

long long Workload::skipped_rows() const {
  long long n = 0;
  for (const TraceStream* t : traces_) n += t->skipped_rows();
  return n;
}

long long Workload::filtered_rows() const {
  long long n = 0;
  for (const TraceStream* t : traces_) n += t->filtered_rows();
  return n;
}

}  // namespace gpuslice
