#include "traces/workload.h"

#include <filesystem>

#include "sim/util/json_reader.h"
#include "traces/csv_trace.h"
#include "traces/poisson.h"
#include "traces/stages.h"

namespace gpuslice {
namespace {

void ReadStagesFile(const JsonObject& src, const std::string& path, WorkloadSource* out) {
  nlohmann::ordered_json doc = ParseJsonFile(path);
  if (!doc.is_object()) throw InputError(path + ": /: expected an object");
  JsonObject root(path, doc, "");
  const nlohmann::ordered_json& counts = root.Value("processed_request_counts");
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
    const nlohmann::ordered_json& d = doc["parameters"]["duration"];
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

}  // namespace

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::vector<WorkloadSource> ParseWorkload(const std::string& file, const nlohmann::ordered_json& array,
                                          const std::string& pointer, const std::string& base_dir,
                                          const std::unordered_map<std::string, int32_t>& functions) {
  if (!array.is_array() || array.empty()) {
    throw JsonError(file, pointer, "expected a non-empty array of workload sources");
  }
  std::vector<WorkloadSource> sources;
  std::unordered_map<int32_t, int> seen;
  for (size_t i = 0; i < array.size(); ++i) {
    JsonObject src(file, array[i], pointer + "/" + std::to_string(i));
    WorkloadSource w;
    w.type = src.String("type");
    w.start_s = src.NonNegative("start_s", 0.0);
    auto read_function = [&]() {
      std::string name = src.String("function");
      auto it = functions.find(name);
      if (it == functions.end()) throw src.Error("function", "unknown function '" + name + "'");
      w.function = it->second;
      int k = seen[w.function]++;
      w.rng_stream = "arrivals/" + name + (k > 0 ? "#" + std::to_string(k) : "");
    };
    if (w.type == "poisson") {
      read_function();
      w.rate_rps = src.Positive("rate_rps");
      w.end_s = src.Positive("end_s");
      if (w.end_s <= w.start_s) throw src.Error("end_s", "must be after start_s");
    } else if (w.type == "stages") {
      read_function();
      w.stage_s = src.Positive("stage_s", 0.0);
      w.spacing = src.String("spacing", "even");
      w.path = src.String("source_file", "");  // written by the resolved echo; informational only
      if (w.spacing != "even" && w.spacing != "uniform" && w.spacing != "poisson") {
        throw src.Error("spacing", "must be \"even\", \"uniform\" or \"poisson\"");
      }
      if (src.Has("file") == src.Has("rates_rps")) {
        throw src.Error("give exactly one of \"file\" and \"rates_rps\"");
      }
      if (src.Has("file")) {
        w.path = ResolvePath(base_dir, src.String("file"));
        ReadStagesFile(src, w.path, &w);
      } else {
        const nlohmann::ordered_json& rates = src.Value("rates_rps");
        if (!rates.is_array() || rates.empty()) throw src.Error("rates_rps", "expected a non-empty array");
        for (size_t k = 0; k < rates.size(); ++k) {
          if (!rates[k].is_number() || rates[k].get<double>() < 0) {
            throw JsonError(file, src.PathOf("rates_rps") + "/" + std::to_string(k), "expected a number >= 0");
          }
          w.rates_rps.push_back(rates[k].get<double>());
        }
      }
      if (w.stage_s <= 0) throw src.Error("stage_s", "missing required key (the stage length in seconds)");
    } else if (w.type == "csv") {
      w.path = ResolvePath(base_dir, src.String("file"));
      w.skip_unknown_functions = src.Bool("skip_unknown_functions", false);
      w.rng_stream = "";
      if (!std::filesystem::exists(w.path)) throw src.Error("file", "no such file: " + w.path);
    } else {
      throw src.Error("type", "unknown workload type '" + w.type + "' (poisson, stages, csv)");
    }
    src.RejectUnknownKeys();
    sources.push_back(std::move(w));
  }
  return sources;
}

nlohmann::ordered_json WorkloadSource::ToJson(const std::vector<std::string>& function_names) const {
  nlohmann::ordered_json j{{"type", type}, {"start_s", start_s}};
  if (function >= 0) j["function"] = function_names[static_cast<size_t>(function)];
  if (type == "poisson") {
    j["rate_rps"] = rate_rps;
    j["end_s"] = end_s;
  } else if (type == "stages") {
    j["rates_rps"] = rates_rps;
    j["stage_s"] = stage_s;
    j["spacing"] = spacing;
    if (!path.empty()) j["source_file"] = path;  // informational: where the rates came from
  } else {
    j["file"] = path;
    j["skip_unknown_functions"] = skip_unknown_functions;
  }
  return j;
}

std::unique_ptr<ArrivalStream> MakeArrivalStream(
    const std::vector<WorkloadSource>& sources, uint64_t seed,
    const std::unordered_map<std::string, int32_t>& functions) {
  std::vector<std::unique_ptr<ArrivalStream>> streams;
  for (const WorkloadSource& w : sources) {
    const SimTime start = SecondsToSim(w.start_s);
    if (w.type == "poisson") {
      streams.push_back(std::make_unique<PoissonStream>(w.function, w.rate_rps, start,
                                                        SecondsToSim(w.end_s), RngStream(seed, w.rng_stream)));
    } else if (w.type == "stages") {
      StageSpacing spacing = w.spacing == "even"      ? StageSpacing::kEven
                             : w.spacing == "uniform" ? StageSpacing::kUniform
                                                      : StageSpacing::kPoisson;
      streams.push_back(std::make_unique<StagesStream>(w.function, w.rates_rps, SecondsToSim(w.stage_s),
                                                       start, spacing, RngStream(seed, w.rng_stream)));
    } else {
      streams.push_back(std::make_unique<CsvTraceStream>(w.path, functions, w.skip_unknown_functions, start));
    }
  }
  if (streams.size() == 1) return std::move(streams.front());
  return std::make_unique<MergedStream>(std::move(streams));
}

}  // namespace gpuslice
