#include "sim/scenario.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "gpu/calibrate/zoo.h"
#include "sim/engine/rng.h"
#include "sim/policies/policy.h"
#include "sim/util/json_reader.h"

namespace gpuslice {
namespace {

NoiseKind ParseNoise(const JsonObject& noise, double* cv) {
  std::string kind = noise.String("kind", "none");
  *cv = 0;
  NoiseKind k;
  if (kind == "none") {
    k = NoiseKind::kNone;
  } else if (kind == "lognormal") {
    k = NoiseKind::kLogNormal;
    *cv = noise.NumberIn("cv", 0.05, 0.0, 10.0);
  } else if (kind == "exponential") {
    k = NoiseKind::kExponential;
  } else {
    throw noise.Error("kind", "unknown noise kind '" + kind + "' (none, lognormal, exponential)");
  }
  noise.RejectUnknownKeys();
  return k;
}

const char* NoiseName(NoiseKind k) {
  switch (k) {
    case NoiseKind::kNone: return "none";
    case NoiseKind::kLogNormal: return "lognormal";
    case NoiseKind::kExponential: return "exponential";
  }
  return "none";
}

// What a scenario's models read from files, read once per scenario: a population of
// thousands of functions names a few profiles (issue 15: 2,000 models spent 3 s re-reading
// two profiles and their zoo files). Each entry is immutable once made.
struct SharedModelFiles {
  std::map<std::string, LatencyCurve> curve_by_profile;  // resolved profile path -> its curve
  // "<profile path>#<batches>" -> the estimated interference load per batch and its source.
  std::map<std::string, std::pair<std::vector<double>, std::string>> load_by_profile;
};

ModelSpec ParseModel(const JsonObject& m, const std::string& name, const std::string& dir,
                     const std::vector<NodeGroup>& nodes, SharedModelFiles& files) {
  ModelSpec spec;
  spec.name = name;
  if (int(m.Has("profile")) + int(m.Has("latency_ms")) + int(m.Has("roofline")) != 1) {
    throw m.Error("give exactly one of \"profile\" (a latency CSV), \"latency_ms\" (a constant) and "
                  "\"roofline\" (an estimate from FLOPs and bytes)");
  }
  if (m.Has("roofline")) {
    JsonObject r = m.Object("roofline");
    RooflineSpec& rs = spec.roofline_spec;
    rs.gflops_per_sample = r.Positive("gflops_per_sample");
    rs.weights_mb = r.NonNegative("weights_mb", 0.0);
    rs.activations_mb_per_sample = r.NonNegative("activations_mb_per_sample", 0.0);
    rs.precision = r.String("precision", "fp32");
    if (rs.precision != "fp32" && rs.precision != "fp16") throw r.Error("precision", "must be \"fp32\" or \"fp16\"");
    rs.efficiency = r.Positive("efficiency", rs.efficiency);
    if (rs.efficiency > 1) throw r.Error("efficiency", "must be in (0, 1]");
    rs.floor_ms = r.NonNegative("floor_ms", rs.floor_ms);
    rs.bandwidth_saturation = r.Positive("bandwidth_saturation", rs.bandwidth_saturation);
    if (rs.bandwidth_saturation > 1) throw r.Error("bandwidth_saturation", "must be in (0, 1]");
    r.RejectUnknownKeys();
    for (const NodeGroup& g : nodes) {
      if (g.gpu != nodes.front().gpu) {
        throw m.Error("roofline", "a roofline model needs one GPU type in the cluster (it is an estimate for that GPU)");
      }
    }
    spec.roofline = true;
    spec.curve = LatencyCurve::Roofline(rs, *nodes.front().gpu);
  } else if (m.Has("profile")) {
    spec.profile_path = ResolvePath(dir, m.String("profile"));
    if (!std::filesystem::exists(spec.profile_path)) {
      throw m.Error("profile", "no such file: " + spec.profile_path);
    }
    if (!std::filesystem::is_regular_file(spec.profile_path)) {
      throw m.Error("profile", spec.profile_path + " is not a regular file (a folder, a FIFO or a device)");
    }
    auto cached = files.curve_by_profile.find(spec.profile_path);
    if (cached == files.curve_by_profile.end()) {
      auto profile = std::make_shared<LatencyProfile>(LatencyProfile::Load(spec.profile_path));
      cached = files.curve_by_profile.emplace(spec.profile_path, LatencyCurve::FromProfile(profile)).first;
    }
    const LatencyProfile& profile = *cached->second.profile();
    for (const NodeGroup& g : nodes) {
      if (profile.gpu() != g.gpu->name) {
        throw m.Error("profile", "measured on " + profile.gpu() + " but the cluster has " + g.gpu->name +
                                     "; use a profile of that GPU, or a \"roofline\" estimate");
      }
    }
    spec.curve = cached->second;
  } else {
    spec.constant_latency_ms = m.Positive("latency_ms");
    spec.curve = LatencyCurve::Constant(spec.constant_latency_ms);
  }
  m.Bool("latency_is_estimate", false);  // written by the resolved echo; informational only
  spec.slo_ms = m.Positive("slo_ms");
  spec.memory_mb = static_cast<long>(std::ceil(m.Positive("memory_mb")));
  spec.load_time_s = m.NonNegative("load_time_s", 0.0);
  if (m.Has("overhead_ms") && m.Has("network_ms")) {
    throw m.Error("overhead_ms", "give network_ms (overhead_ms is its old name), not both");
  }
  spec.overhead_alias = m.Has("overhead_ms");
  spec.network_ms = m.NonNegative(spec.overhead_alias ? "overhead_ms" : "network_ms", 0.0);
  spec.preprocess_ms = m.NonNegative("preprocess_ms", 0.0);
  spec.postprocess_ms = m.NonNegative("postprocess_ms", 0.0);
  spec.pod_cpu_cores = m.NonNegative("pod_cpu_cores", 0.0);
  if (spec.pod_cpu_cores > 0 && spec.pod_cpu_cores < 0.01) {
    throw m.Error("pod_cpu_cores", "must be 0 (no limit) or at least 0.01");
  }
  spec.max_batch = static_cast<int>(m.IntegerIn("max_batch", 1, 1, 4096));
  spec.batch_timeout_ms = m.NonNegative("batch_timeout_ms", 0.0);
  spec.queue_timeout_s = m.Positive("queue_timeout_s", 300.0);
  // A request's stages and a batch's service time: at most 1e7 ms (2.8 hours) each, so that
  // sums with noise and the clock stay far inside simulated time.
  for (const char* key : {"latency_ms", "network_ms", "overhead_ms", "preprocess_ms", "postprocess_ms",
                          "batch_timeout_ms"}) {
    if (m.Has(key) && m.Number(key) > kMaxStageMs) {
      throw m.Error(key, "must be at most 1e7 ms (2.8 hours for one stage of one request) (got " +
                             m.Value(key).dump() + ")");
    }
  }
  if (m.Has("l2_util") != m.Has("dram_util")) {
    throw m.Error(m.Has("l2_util") ? "l2_util" : "dram_util",
                  "give both l2_util and dram_util (the measured interference load), or neither (estimated)");
  }
  if (m.Has("l2_util")) {
    spec.l2_util = m.NonNegative("l2_util", 0.0);
    spec.dram_util = m.NonNegative("dram_util", 0.0);
    if (spec.l2_util > 1) throw m.Error("l2_util", "must be in [0, 1]");
    if (spec.dram_util > 1) throw m.Error("dram_util", "must be in [0, 1]");
    spec.l2_util_by_batch = {spec.l2_util};
    spec.dram_util_by_batch = {spec.dram_util};
    spec.interference_source = "scenario";
  }
  if (m.Has("interference_estimate")) m.Value("interference_estimate");  // the resolved echo's; informational
  m.RejectUnknownKeys();
  return spec;
}

// Estimates a model's interference load when the scenario gives none: the DRAM traffic of a
// batch (the zoo's layer list, or the roofline's weights and activations) over its solo
// latency on the whole GPU × peak bandwidth. No L2 counters are published, so L2 takes the
// DRAM figure (every DRAM byte passes L2: a lower bound). Batches 1..max(max_batch, 32).
void EstimateInterferenceLoad(ModelSpec& spec, const GpuSpec& gpu, SharedModelFiles& files) {
  if (!spec.interference_source.empty()) return;
  const int batches = std::max(spec.max_batch, 32);
  // Shared by the models of one profile (the GPU is the first node group's for all).
  const std::string key = spec.profile_path.empty() ? "" : spec.profile_path + "#" + std::to_string(batches);
  if (!key.empty()) {
    const auto cached = files.load_by_profile.find(key);
    if (cached != files.load_by_profile.end()) {
      spec.dram_util_by_batch = spec.l2_util_by_batch = cached->second.first;
      spec.interference_source = cached->second.second;
      return;
    }
  }
  std::function<double(int)> bytes;
  std::string source;
  if (spec.roofline) {
    const RooflineSpec r = spec.roofline_spec;
    bytes = [r](int b) { return 1e6 * (r.weights_mb + b * r.activations_mb_per_sample); };
    source = "roofline estimate";
  } else if (spec.curve.profile() != nullptr) {
    const std::string zoo_file = std::string(GPUSLICE_SOURCE_ZOO) + "/" + spec.curve.profile()->model() + ".json";
    if (std::filesystem::exists(zoo_file)) {
      auto zoo = std::make_shared<ZooModel>(ZooModel::Read(zoo_file));
      bytes = [zoo](int b) { return zoo->BytesMoved(b); };
      source = "zoo estimate";
    }
  }
  if (!bytes) {
    spec.interference_source = "none";
  } else {
    spec.interference_source = source;
    for (int b = 1; b <= batches; ++b) {
      const double seconds = spec.curve.SoloMs(b, 100.0) * 1e-3;
      const double util = std::min(1.0, bytes(b) / (seconds * gpu.mem_bandwidth_gbps * 1e9));
      spec.dram_util_by_batch.push_back(util);
      spec.l2_util_by_batch.push_back(util);
    }
  }
  if (!key.empty()) files.load_by_profile.emplace(key, std::make_pair(spec.dram_util_by_batch, spec.interference_source));
}

}  // namespace

int Scenario::model_index(const std::string& model) const {
  for (size_t i = 0; i < models.size(); ++i) {
    if (models[i].name == model) return static_cast<int>(i);
  }
  return -1;
}

int Scenario::total_gpus() const {
  int n = 0;
  for (const NodeGroup& g : node_groups) n += g.count * g.gpus_per_node;
  return n;
}

Scenario LoadScenario(const std::string& path, const std::vector<std::string>& overrides, bool skip_bad_rows) {
  nlohmann::ordered_json root = ParseJsonFile(path);
  for (const std::string& o : overrides) ApplyOverride(root, o);
  if (skip_bad_rows && root.is_object() && root.contains("workload") && root["workload"].is_array()) {
    for (auto& source : root["workload"]) {
      if (!source.is_object() || !source.contains("type") || !source["type"].is_string()) continue;
      const auto& formats = TraceFormats();
      if (std::find(formats.begin(), formats.end(), source["type"].get<std::string>()) != formats.end()) {
        source["skip_bad_rows"] = true;
      }
    }
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return ParseScenario(root, path, dir);
}

Scenario ParseScenario(const nlohmann::ordered_json& root_json, const std::string& file, const std::string& dir) {
  JsonObject root(file, root_json, "");
  Scenario s;
  s.file = file;
  s.dir = dir;
  s.name = root.String("name", std::filesystem::path(file).stem().string());
  const long long seed = root.IntegerIn("seed", 1, 0, std::numeric_limits<long long>::max());
  s.seed = static_cast<uint64_t>(seed);

  // Cluster.
  JsonObject cluster = root.Object("cluster");
  const nlohmann::ordered_json& nodes = cluster.Value("nodes");
  if (!nodes.is_array() || nodes.empty()) throw cluster.Error("nodes", "expected a non-empty array");
  long long total_gpus = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    JsonObject n(file, nodes[i], cluster.PathOf("nodes") + "/" + std::to_string(i));
    NodeGroup g;
    g.count = static_cast<int>(n.IntegerIn("count", 1, 1, 1'000'000));
    g.gpus_per_node = static_cast<int>(n.IntegerIn("gpus_per_node", 1, 1, 64));
    std::string type = n.String("gpu");
    g.gpu = FindGpuSpec(type);
    if (g.gpu == nullptr) throw n.Error("gpu", "unknown GPU type '" + type + "' (known: " + GpuCatalogNames() + ")");
    g.price_per_hour = n.NumberIn("price_per_hour", g.gpu->price_per_hour, 0.0, 1e6, "USD per GPU-hour");
    n.RejectUnknownKeys();
    s.node_groups.push_back(g);
    total_gpus += static_cast<long long>(g.count) * g.gpus_per_node;
    if (total_gpus > kMaxClusterGpus) {
      throw n.Error("count", "the cluster would have " + std::to_string(total_gpus) + " GPUs; at most " +
                                 std::to_string(kMaxClusterGpus) + " are supported (each GPU's state is kept in memory)");
    }
  }
  s.container_start_s = cluster.NonNegative("container_start_s", 2.0);
  s.token_window_ms = cluster.NumberIn("token_window_ms", 40.0, 0.1, 1e7, "ms; FaST-GShare's window is 40");
  if (cluster.Has("interference")) {
    JsonObject in = cluster.Object("interference");
    s.interference = in.Bool("enabled", true);
    if (in.Has("coefficients")) {
      const auto& c = in.Value("coefficients");
      if (!c.is_array() || c.size() != 5) throw in.Error("coefficients", "expected 5 numbers [c0, c1, c2, c3, c4]");
      for (size_t i = 0; i < 5; ++i) {
        if (!c[i].is_number() || !(std::fabs(c[i].get<double>()) <= 1e6)) {
          throw JsonError(file, in.PathOf("coefficients") + "/" + std::to_string(i), "expected a number in [-1e6, 1e6]");
        }
        s.interference_coefficients[i] = c[i].get<double>();
      }
    }
    in.RejectUnknownKeys();
  }
  cluster.RejectUnknownKeys();

  // Models.
  JsonObject models = root.Object("models");
  if (models.json().empty()) throw models.Error("needs at least one model");
  SharedModelFiles model_files;
  for (auto it = models.json().begin(); it != models.json().end(); ++it) {
    if (it.key().empty()) throw models.Error("a model's name must not be empty");
    JsonObject m = models.Object(it.key());
    ModelSpec spec = ParseModel(m, it.key(), dir, s.node_groups, model_files);
    bool fits = false;
    for (const NodeGroup& g : s.node_groups) fits = fits || spec.memory_mb <= g.gpu->memory_mb;
    if (!fits) {
      throw m.Error("memory_mb", "model needs " + std::to_string(spec.memory_mb) +
                                     " MB, more than any GPU of the cluster has");
    }
    EstimateInterferenceLoad(spec, *s.node_groups.front().gpu, model_files);
    s.models.push_back(std::move(spec));
  }

  // Functions: explicit name -> model entries (by default one function per model, of the
  // model's name), then every function the workload emits, mapped by `function_mapping`.
  auto add_function = [&](const std::string& name, int model) {
    s.function_index.emplace(name, static_cast<int32_t>(s.function_names.size()));
    s.function_names.push_back(name);
    s.function_model.push_back(model);
  };
  if (root.Has("functions")) {
    JsonObject fns = root.Object("functions");
    s.explicit_functions = fns.json();
    for (auto it = fns.json().begin(); it != fns.json().end(); ++it) {
      std::string model = fns.String(it.key());
      int m = s.model_index(model);
      if (m < 0) throw fns.Error(it.key(), "unknown model '" + model + "'");
      add_function(it.key(), m);
    }
  } else {
    for (size_t m = 0; m < s.models.size(); ++m) add_function(s.models[m].name, static_cast<int>(m));
  }
  std::string rule = "explicit";
  std::vector<int> mapping_models;
  if (root.Has("function_mapping")) {
    JsonObject fm = root.Object("function_mapping");
    rule = fm.String("rule");
    if (rule != "explicit" && rule != "round_robin" && rule != "hash" && rule != "popularity") {
      throw fm.Error("rule", "unknown rule '" + rule + "' (explicit, round_robin, hash, popularity)");
    }
    if (fm.Has("models")) {
      const auto& list = fm.Value("models");
      if (!list.is_array() || list.empty()) throw fm.Error("models", "expected a non-empty array of model names");
      for (size_t i = 0; i < list.size(); ++i) {
        int m = list[i].is_string() ? s.model_index(list[i].get<std::string>()) : -1;
        if (m < 0) throw JsonError(file, fm.PathOf("models") + "/" + std::to_string(i), "unknown model " + list[i].dump());
        mapping_models.push_back(m);
      }
    }
    fm.RejectUnknownKeys();
  }
  if (mapping_models.empty()) {
    for (size_t m = 0; m < s.models.size(); ++m) mapping_models.push_back(static_cast<int>(m));
  }
  s.function_mapping = {{"rule", rule}};
  for (int m : mapping_models) s.function_mapping["models"].push_back(s.models[static_cast<size_t>(m)].name);

  s.workload = ParseWorkload(file, root.Value("workload"), "/workload", dir);
  // Functions the workload emits that no explicit entry names, with their request counts.
  std::vector<std::string> pending;
  std::vector<double> pending_count;
  NameIndex pending_index;
  for (WorkloadSource& w : s.workload) {
    std::vector<std::string> kept;
    for (size_t k = 0; k < w.functions.size(); ++k) {
      const std::string& name = w.functions[k];
      if (s.function_index.count(name) > 0) {
        kept.push_back(name);
        continue;
      }
      if (rule == "explicit") {
        if (w.skip_unknown_functions) continue;
        throw InputError(w.where + (w.is_trace ? "" : "/function") + ": function '" + name +
                         "' has no model: name it in \"functions\", set \"function_mapping\"" +
                         (w.is_trace ? ", or set \"skip_unknown_functions\"" : ""));
      }
      kept.push_back(name);
      auto [it, inserted] = pending_index.try_emplace(name, static_cast<int32_t>(pending.size()));
      if (inserted) {
        pending.push_back(name);
        pending_count.push_back(0);
      }
      pending_count[static_cast<size_t>(it->second)] += w.function_counts[k];
    }
    w.functions = kept;
  }
  std::vector<size_t> order(pending.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (rule == "popularity") {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pending_count[a] > pending_count[b]; });
  }
  const size_t nm = mapping_models.size();
  for (size_t r = 0; r < order.size(); ++r) {
    const std::string& name = pending[order[r]];
    const size_t pick = rule == "hash" ? static_cast<size_t>(HashName(name) % nm) : r % nm;
    add_function(name, mapping_models[pick]);
  }

  s.load_scale = root.Positive("load_scale", 1.0);
  if (s.load_scale > kMaxLoadScale) {
    throw root.Error("load_scale", "must be at most " + std::to_string(static_cast<long>(kMaxLoadScale)));
  }
  if (s.load_scale != 1.0) ScaleWorkload(&s, s.load_scale);
  CheckWorkloadBounds(s.workload, file + ": /load_scale " + nlohmann::ordered_json(s.load_scale).dump());
  s.duration_s = root.NonNegative("duration_s", 0.0);
  s.drain_s = root.NonNegative("drain_s", 600.0);

  if (root.Has("executor")) {
    JsonObject ex = root.Object("executor");
    if (ex.Has("noise")) s.noise = ParseNoise(ex.Object("noise"), &s.noise_cv);
    ex.RejectUnknownKeys();
  }
  // Noise CV: a profile's measured spread wins over the scenario's constant.
  size_t measured_noise = 0;
  for (ModelSpec& m : s.models) {
    const LatencyProfile* p = m.curve.profile();
    m.noise_cv = (p != nullptr && p->measured_cv() > 0) ? p->measured_cv() : s.noise_cv;
    if (p != nullptr && p->measured_cv() > 0) ++measured_noise;
  }
  if (s.noise == NoiseKind::kLogNormal && measured_noise == s.models.size() &&
      root_json.contains("executor") && root_json["executor"].contains("noise") &&
      root_json["executor"]["noise"].contains("cv")) {
    s.warnings.push_back("/executor/noise/cv: every model's profile has a measured spread, which is used instead");
  }
  for (const ModelSpec& m : s.models) {
    if (s.interference && m.interference_source == "none") {
      s.warnings.push_back("/models/" + m.name + ": no L2/DRAM utilisation given or estimable (no zoo model or "
                           "roofline); it neither causes nor suffers interference");
    }
    if (m.overhead_alias) {
      s.warnings.push_back("/models/" + m.name + "/overhead_ms: read as network_ms (latency outside the pod, holding "
                           "nothing); in-pod pre/post-processing is preprocess_ms/postprocess_ms");
    }
    if (m.pod_cpu_cores > 0 && m.in_pod_ms() <= 0) {
      s.warnings.push_back("/models/" + m.name + "/pod_cpu_cores: has no effect without preprocess_ms or postprocess_ms");
    }
    if (m.batch_timeout_ms > 0 && m.max_batch == 1) {
      s.warnings.push_back("/models/" + m.name + "/batch_timeout_ms: has no effect with max_batch 1");
    }
  }
  if (!s.interference && root_json.contains("cluster") && root_json["cluster"].contains("interference") &&
      root_json["cluster"]["interference"].contains("coefficients")) {
    s.warnings.push_back("/cluster/interference/coefficients: interference is disabled; they have no effect");
  }
  if (root.Has("output")) {
    JsonObject out = root.Object("output");
    s.interval_s = out.Interval("interval_s", 1.0);
    s.per_request = out.Bool("per_request", false);
    s.per_model_timeseries = out.Bool("per_model_timeseries", true);
    const std::string refusals = out.String("refusals", "log");
    if (refusals != "log" && refusals != "count") {
      throw out.Error("refusals", "must be \"log\" or \"count\", not \"" + refusals + "\"");
    }
    s.log_refusals = refusals == "log";
    out.RejectUnknownKeys();
  }

  JsonObject policies = root.Object("policies");
  if (policies.json().empty()) throw policies.Error("needs at least one policy run");
  for (auto it = policies.json().begin(); it != policies.json().end(); ++it) {
    JsonObject p = policies.Object(it.key());
    PolicyRunSpec run;
    run.run_name = it.key();
    run.policy = p.String("policy");
    if (!PolicyRegistry::Has(run.policy)) {
      throw p.Error("policy", "unknown policy '" + run.policy + "' (known: " + PolicyRegistry::Names() + ")");
    }
    // Each policy validates its own keys, with paths relative to this entry; the run keeps
    // the config with the policy's defaults filled in, so that what is echoed is what ran.
    run.config = PolicyRegistry::Resolve(run.policy, file, p.json(), p.pointer(), s);
    s.policies.push_back(std::move(run));
  }
  root.RejectUnknownKeys();
  return s;
}

nlohmann::ordered_json Scenario::ToJson(const PolicyRunSpec* run) const {
  nlohmann::ordered_json j;
  j["name"] = name;
  j["seed"] = seed;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const NodeGroup& g : node_groups) {
    nodes.push_back({{"count", g.count}, {"gpus_per_node", g.gpus_per_node}, {"gpu", g.gpu->name},
                     {"price_per_hour", g.price_per_hour}});
  }
  j["cluster"] = {{"nodes", nodes},
                  {"container_start_s", container_start_s},
                  {"token_window_ms", token_window_ms},
                  {"interference", {{"enabled", interference}, {"coefficients", interference_coefficients}}}};
  for (const ModelSpec& m : models) {
    nlohmann::ordered_json mj{{"slo_ms", m.slo_ms}, {"memory_mb", m.memory_mb}, {"load_time_s", m.load_time_s},
                      {"network_ms", m.network_ms}, {"preprocess_ms", m.preprocess_ms},
                      {"postprocess_ms", m.postprocess_ms}, {"pod_cpu_cores", m.pod_cpu_cores},
                      {"max_batch", m.max_batch},
                      {"batch_timeout_ms", m.batch_timeout_ms}, {"queue_timeout_s", m.queue_timeout_s},
                      };
    if (m.interference_source == "scenario") {
      mj["l2_util"] = m.l2_util;
      mj["dram_util"] = m.dram_util;
    } else {
      mj["interference_estimate"] = {{"source", m.interference_source},
                                     {"dram_util_batch_1", m.DramUtil(1)},
                                     {"l2_util_batch_1", m.L2Util(1)}};
    }
    if (m.roofline) {
      const RooflineSpec& r = m.roofline_spec;
      mj["roofline"] = {{"gflops_per_sample", r.gflops_per_sample}, {"weights_mb", r.weights_mb},
                        {"activations_mb_per_sample", r.activations_mb_per_sample}, {"precision", r.precision},
                        {"efficiency", r.efficiency}, {"floor_ms", r.floor_ms},
                        {"bandwidth_saturation", r.bandwidth_saturation}};
      mj["latency_is_estimate"] = true;
    } else if (m.profile_path.empty()) {
      mj["latency_ms"] = m.constant_latency_ms;
    } else {
      mj["profile"] = m.profile_path;
    }
    j["models"][m.name] = mj;
  }
  if (!explicit_functions.is_null()) j["functions"] = explicit_functions;
  j["function_mapping"] = function_mapping;
  j["workload"] = nlohmann::ordered_json::array();
  for (const WorkloadSource& w : workload) j["workload"].push_back(w.resolved);
  j["load_scale"] = load_scale;
  j["duration_s"] = duration_s;
  j["drain_s"] = drain_s;
  j["executor"]["noise"] = {{"kind", NoiseName(noise)}};
  if (noise == NoiseKind::kLogNormal) j["executor"]["noise"]["cv"] = noise_cv;
  j["output"] = {{"interval_s", interval_s}, {"per_request", per_request},
                 {"per_model_timeseries", per_model_timeseries}};
  // Only when set: the resolved scenarios (and so the run keys and stored results) of
  // runs that log every refusal stay as they were before the option.
  if (!log_refusals) j["output"]["refusals"] = "count";
  auto add_run = [&j](const PolicyRunSpec& r) {
    nlohmann::ordered_json p{{"policy", r.policy}};
    for (auto it = r.config.begin(); it != r.config.end(); ++it) p[it.key()] = it.value();
    j["policies"][r.run_name] = p;
  };
  if (run != nullptr) {
    add_run(*run);
  } else {
    for (const PolicyRunSpec& r : policies) add_run(r);
  }
  return j;
}

void ScaleWorkload(Scenario* s, double factor) {
  for (WorkloadSource& w : s->workload) {
    if (w.is_trace) {
      w.rate_scale *= factor;
    } else if (w.type == "stages" || w.type == "mmpp") {
      for (double& r : w.rates_rps) r *= factor;
    } else {
      w.rate_rps *= factor;  // poisson, gamma, diurnal (mean), population (total)
    }
    for (double& c : w.function_counts) c *= factor;
  }
}

std::vector<PolicyRunSpec> SelectPolicyRuns(const Scenario& scenario, const std::string& selection) {
  if (selection.empty()) return scenario.policies;
  std::vector<PolicyRunSpec> out;
  size_t start = 0;
  while (start <= selection.size()) {
    size_t comma = selection.find(',', start);
    std::string name = selection.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? selection.size() + 1 : comma + 1;
    if (name.empty()) continue;
    bool found = false;
    for (const PolicyRunSpec& p : scenario.policies) {
      if (p.run_name == name) {
        out.push_back(p);
        found = true;
        break;
      }
    }
    if (!found && PolicyRegistry::Has(name)) {
      out.push_back(PolicyRunSpec{name, name,
                                  PolicyRegistry::Resolve(name, scenario.file, nlohmann::ordered_json::object(),
                                                          "/policies/" + name, scenario)});
      found = true;
    }
    if (!found) {
      std::string runs;
      for (const PolicyRunSpec& p : scenario.policies) runs += (runs.empty() ? "" : ", ") + p.run_name;
      throw InputError("unknown policy '" + name + "': not a run of " + scenario.file + " (" + runs +
                       ") nor a registered policy (" + PolicyRegistry::Names() + ")");
    }
  }
  if (out.empty()) throw InputError("no policy selected");
  return out;
}

}  // namespace gpuslice
