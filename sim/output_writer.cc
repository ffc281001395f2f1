#include "sim/output_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "sim/summary_json.h"
#include <stdexcept>

namespace gpuslice {
namespace {

// Streams per-request rows into appendable columns, 64K rows at a time.
class H5RequestSink final : public RequestSink {
 public:
  explicit H5RequestSink(hid_t group)
      : id_(group, "id", H5T_NATIVE_UINT64),
        function_(group, "function", H5T_NATIVE_INT32),
        model_(group, "model", H5T_NATIVE_INT32),
        arrival_(group, "arrival_s", H5T_NATIVE_DOUBLE, "s"),
        start_(group, "start_s", H5T_NATIVE_DOUBLE, "s"),
        end_(group, "end_s", H5T_NATIVE_DOUBLE, "s"),
        latency_(group, "latency_ms", H5T_NATIVE_DOUBLE, "ms"),
        status_(group, "status", H5T_NATIVE_UINT8),
        instance_(group, "instance", H5T_NATIVE_INT32),
        batch_(group, "batch", H5T_NATIVE_INT32),
        input_tokens_(group, "input_tokens", H5T_NATIVE_INT32),
        output_tokens_(group, "output_tokens", H5T_NATIVE_INT32) {}
  ~H5RequestSink() override { Flush(); }

  void Write(const RequestRecord& r) override {
    ids_.push_back(r.id);
    functions_.push_back(r.function);
    models_.push_back(r.model);
    arrivals_.push_back(SimToSeconds(r.arrival));
    starts_.push_back(r.start < 0 ? -1.0 : SimToSeconds(r.start));
    ends_.push_back(SimToSeconds(r.end));
    latencies_.push_back(SimToMillis(r.end - r.arrival));
    statuses_.push_back(r.status);
    instances_.push_back(r.instance);
    batches_.push_back(r.batch);
    input_tokens_v_.push_back(r.input_tokens);
    output_tokens_v_.push_back(r.output_tokens);
    if (ids_.size() >= kRows) Flush();
  }

  void Flush() {
    std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
    id_.Append(ids_.data(), ids_.size());
    function_.Append(functions_.data(), functions_.size());
    model_.Append(models_.data(), models_.size());
    arrival_.Append(arrivals_.data(), arrivals_.size());
    start_.Append(starts_.data(), starts_.size());
    end_.Append(ends_.data(), ends_.size());
    latency_.Append(latencies_.data(), latencies_.size());
    status_.Append(statuses_.data(), statuses_.size());
    instance_.Append(instances_.data(), instances_.size());
    batch_.Append(batches_.data(), batches_.size());
    input_tokens_.Append(input_tokens_v_.data(), input_tokens_v_.size());
    output_tokens_.Append(output_tokens_v_.data(), output_tokens_v_.size());
    input_tokens_v_.clear();
    output_tokens_v_.clear();
    ids_.clear(); functions_.clear(); models_.clear(); arrivals_.clear(); starts_.clear();
    ends_.clear(); latencies_.clear(); statuses_.clear(); instances_.clear(); batches_.clear();
  }

 private:
  static constexpr size_t kRows = 65536;
  h5::AppendableColumn id_, function_, model_, arrival_, start_, end_, latency_, status_, instance_, batch_,
      input_tokens_, output_tokens_;
  std::vector<uint64_t> ids_;
  std::vector<int32_t> functions_, models_, instances_, batches_, input_tokens_v_, output_tokens_v_;
  std::vector<double> arrivals_, starts_, ends_, latencies_;
  std::vector<uint8_t> statuses_;
};

void WriteSummary(hid_t run, const RunResult& r) {
  h5::Handle g = h5::CreateGroup(run, "summary");
  std::vector<const ModelSummary*> rows;
  for (const ModelSummary& m : r.models) rows.push_back(&m);
  rows.push_back(&r.overall);
  std::vector<std::string> names;
  for (const ModelSummary* m : rows) names.push_back(m->name);
  h5::WriteStringColumn(g.id(), "model", names);
  auto ints = [&](const char* name, auto field) {
    std::vector<int64_t> v;
    for (const ModelSummary* m : rows) v.push_back(static_cast<int64_t>(field(*m)));
    h5::WriteColumn(g.id(), name, v);
  };
  auto reals = [&](const char* name, auto field, const char* unit) {
    std::vector<double> v;
    for (const ModelSummary* m : rows) v.push_back(field(*m));
    h5::WriteColumn(g.id(), name, v, unit);
  };
  ints("arrived", [](const ModelSummary& m) { return m.arrived; });
  ints("completed", [](const ModelSummary& m) { return m.completed; });
  ints("dropped_queue_timeout", [](const ModelSummary& m) { return m.dropped[0]; });
  ints("dropped_no_capacity", [](const ModelSummary& m) { return m.dropped[1]; });
  ints("dropped_admission", [](const ModelSummary& m) { return m.dropped[2]; });
  ints("dropped_total", [](const ModelSummary& m) { return m.dropped_total; });
  ints("in_flight_at_end", [](const ModelSummary& m) { return m.in_flight_at_end; });
  ints("violations", [](const ModelSummary& m) { return m.violations; });
  reals("violation_rate", [](const ModelSummary& m) { return m.violation_rate; }, "");
  reals("throughput_rps", [](const ModelSummary& m) { return m.throughput_rps; }, "1/s");
  reals("latency_mean_ms", [](const ModelSummary& m) { return m.latency_mean_ms; }, "ms");
  reals("latency_p50_ms", [](const ModelSummary& m) { return m.latency_p50_ms; }, "ms");
  reals("latency_p90_ms", [](const ModelSummary& m) { return m.latency_p90_ms; }, "ms");
  reals("latency_p99_ms", [](const ModelSummary& m) { return m.latency_p99_ms; }, "ms");
  reals("latency_max_ms", [](const ModelSummary& m) { return m.latency_max_ms; }, "ms");
  reals("queue_wait_mean_ms", [](const ModelSummary& m) { return m.queue_wait_mean_ms; }, "ms");
  reals("queue_wait_p99_ms", [](const ModelSummary& m) { return m.queue_wait_p99_ms; }, "ms");
  ints("cold_starts", [](const ModelSummary& m) { return m.cold_starts; });
  ints("peak_instances", [](const ModelSummary& m) { return m.peak_instances; });
  reals("mean_batch_size", [](const ModelSummary& m) { return m.mean_batch_size; }, "");
  reals("fractional_gpu_s", [](const ModelSummary& m) { return m.fractional_gpu_s; }, "GPU s");
  reals("whole_gpu_s", [](const ModelSummary& m) { return m.whole_gpu_s; }, "GPU s");
  reals("fractional_usd", [](const ModelSummary& m) { return m.fractional_usd; }, "USD");
  reals("whole_usd", [](const ModelSummary& m) { return m.whole_usd; }, "USD");
  reals("sm_seconds_held", [](const ModelSummary& m) { return m.sm_seconds_held; }, "SM s");
  reals("sm_seconds_busy", [](const ModelSummary& m) { return m.sm_seconds_busy; }, "SM s");
  reals("fragmentation", [](const ModelSummary& m) {
    return m.whole_gpu_s > 0 ? 1.0 - m.fractional_gpu_s / m.whole_gpu_s : 0.0;
  }, "");
}

template <typename Row, typename Field>
std::vector<double> Column(const std::vector<Row>& rows, size_t n, Field field) {
  std::vector<double> v(n, 0.0);
  for (size_t i = 0; i < n && i < rows.size(); ++i) v[i] = static_cast<double>(field(rows[i]));
  return v;
}

void WriteTimeSeries(hid_t run, const Metrics& m, const Scenario& s) {
  h5::Handle g = h5::CreateGroup(run, "timeseries");
  const size_t n = m.overall_samples().size();
  const double interval = SimToSeconds(m.interval());
  h5::WriteDoubleAttribute(g.id(), "interval_s", interval);
  std::vector<double> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<double>(i) * interval;
  h5::WriteColumn(g.id(), "t_s", t, "s");
  const auto& c = m.overall_counts();
  const auto& x = m.overall_samples();
  h5::WriteColumn(g.id(), "arrivals", Column(c, n, [](const IntervalCounts& r) { return r.arrivals; }));
  h5::WriteColumn(g.id(), "completions", Column(c, n, [](const IntervalCounts& r) { return r.completions; }));
  h5::WriteColumn(g.id(), "violations", Column(c, n, [](const IntervalCounts& r) { return r.violations; }));
  h5::WriteColumn(g.id(), "drops", Column(c, n, [](const IntervalCounts& r) { return r.drops; }));
  h5::WriteColumn(g.id(), "latency_mean_ms", Column(c, n, [](const IntervalCounts& r) {
                    return r.completions ? r.latency_sum_ms / r.completions : 0.0;
                  }), "ms");
  h5::WriteColumn(g.id(), "instances", Column(x, n, [](const IntervalSample& r) { return r.instances; }));
  h5::WriteColumn(g.id(), "instances_ready", Column(x, n, [](const IntervalSample& r) { return r.instances_ready; }));
  h5::WriteColumn(g.id(), "queue_length", Column(x, n, [](const IntervalSample& r) { return r.queue_length; }));
  h5::WriteColumn(g.id(), "gpu_fraction_held", Column(x, n, [](const IntervalSample& r) { return r.gpu_fraction_held; }), "GPU");
  h5::WriteColumn(g.id(), "gpus_held", Column(x, n, [](const IntervalSample& r) { return r.gpus_held; }), "GPU");
  h5::WriteColumn(g.id(), "sm_held", Column(x, n, [](const IntervalSample& r) { return r.sm_held; }), "SM");
  h5::WriteColumn(g.id(), "cost_fractional_usd", Column(x, n, [](const IntervalSample& r) { return r.cost_fractional_usd; }), "USD");
  h5::WriteColumn(g.id(), "cost_whole_usd", Column(x, n, [](const IntervalSample& r) { return r.cost_whole_usd; }), "USD");
  if (!m.per_model_series()) return;
  h5::Handle pm = h5::CreateGroup(g.id(), "per_model");
  std::vector<std::string> names;
  for (const ModelSpec& spec : s.models) names.push_back(spec.name);
  h5::WriteStringColumn(pm.id(), "model", names);
  const size_t models = s.models.size();
  auto matrix = [&](const char* name, auto from_counts, auto from_samples, const char* unit) {
    std::vector<double> v(n * models, 0.0);
    for (size_t k = 0; k < models; ++k) {
      std::vector<double> col = from_counts ? Column(m.model_counts(static_cast<int>(k)), n, from_counts)
                                            : Column(m.model_samples(static_cast<int>(k)), n, from_samples);
      for (size_t i = 0; i < n; ++i) v[i * models + k] = col[i];
    }
    h5::WriteMatrix(pm.id(), name, v, n, models, unit);
  };
  using CountsFn = double (*)(const IntervalCounts&);
  using SampleFn = double (*)(const IntervalSample&);
  matrix("arrivals", CountsFn([](const IntervalCounts& r) { return double(r.arrivals); }), SampleFn(nullptr), "");
  matrix("completions", CountsFn([](const IntervalCounts& r) { return double(r.completions); }), SampleFn(nullptr), "");
  matrix("violations", CountsFn([](const IntervalCounts& r) { return double(r.violations); }), SampleFn(nullptr), "");
  matrix("drops", CountsFn([](const IntervalCounts& r) { return double(r.drops); }), SampleFn(nullptr), "");
  matrix("instances", CountsFn(nullptr), SampleFn([](const IntervalSample& r) { return double(r.instances); }), "");
  matrix("queue_length", CountsFn(nullptr), SampleFn([](const IntervalSample& r) { return double(r.queue_length); }), "");
  matrix("gpu_fraction_held", CountsFn(nullptr), SampleFn([](const IntervalSample& r) { return r.gpu_fraction_held; }), "GPU");
}

// A row-major uint64 array of `rank` 1 or 2; `dims` holds its sizes.
void WriteUint64(hid_t group, const std::string& name, const std::vector<uint64_t>& values, int rank,
                 const hsize_t* dims) {
  h5::Handle space(H5Screate_simple(rank, dims, nullptr));
  h5::Handle ds(H5Dcreate2(group, name.c_str(), H5T_NATIVE_UINT64, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (space.id() < 0 || ds.id() < 0 ||
      (!values.empty() && H5Dwrite(ds.id(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)) {
    throw std::runtime_error("HDF5: cannot write dataset " + name);
  }
}

// The latency histograms' buckets from the first to the last one that any model filled:
// bounds, the count over all models and a [bucket × model] matrix (docs/hdf5.md).
void WriteLatencyHistogram(hid_t run, const Metrics& m, const Scenario& s) {
  h5::Handle g = h5::CreateGroup(run, "latency_histogram");
  const size_t models = m.model_count();
  size_t first = SIZE_MAX, end = 0;
  for (size_t k = 0; k < models; ++k) {
    const std::vector<uint64_t>& b = m.model(static_cast<int>(k)).latency.buckets();
    for (size_t i = 0; i < b.size(); ++i) {
      if (b[i] == 0) continue;
      first = std::min(first, i);
      end = std::max(end, i + 1);
    }
  }
  if (first == SIZE_MAX) first = end = 0;
  const size_t n = end - first;
  std::vector<double> low(n), high(n);
  std::vector<uint64_t> total(n, 0), per_model(n * models, 0);
  for (size_t i = 0; i < n; ++i) {
    low[i] = LatencyHistogram::BucketLowerNs(first + i) / 1e6;
    high[i] = LatencyHistogram::BucketLowerNs(first + i + 1) / 1e6;
    for (size_t k = 0; k < models; ++k) {
      const std::vector<uint64_t>& b = m.model(static_cast<int>(k)).latency.buckets();
      const uint64_t c = first + i < b.size() ? b[first + i] : 0;
      per_model[i * models + k] = c;
      total[i] += c;
    }
  }
  h5::WriteColumn(g.id(), "low_ms", low, "ms");
  h5::WriteColumn(g.id(), "high_ms", high, "ms");
  const hsize_t rows[1] = {n};
  WriteUint64(g.id(), "count", total, 1, rows);
  h5::Handle pm = h5::CreateGroup(g.id(), "per_model");
  std::vector<std::string> names;
  for (const ModelSpec& spec : s.models) names.push_back(spec.name);
  h5::WriteStringColumn(pm.id(), "model", names);
  const hsize_t matrix[2] = {n, models};
  WriteUint64(pm.id(), "count", per_model, 2, matrix);
}

void WriteActions(hid_t run, const ActionLog& log, const Scenario& s) {
  h5::Handle g = h5::CreateGroup(run, "actions");
  std::vector<double> t, quota;
  std::vector<std::string> kind, model, detail;
  std::vector<int32_t> instance, gpu, sm;
  for (const Action& a : log.actions()) {
    t.push_back(SimToSeconds(a.time));
    kind.push_back(a.kind);
    model.push_back(a.model >= 0 ? s.models[static_cast<size_t>(a.model)].name : "");
    instance.push_back(a.instance);
    gpu.push_back(a.gpu);
    sm.push_back(a.sm_count);
    quota.push_back(a.quota);
    detail.push_back(a.detail);
  }
  h5::WriteColumn(g.id(), "t_s", t, "s");
  h5::WriteStringColumn(g.id(), "kind", kind);
  h5::WriteStringColumn(g.id(), "model", model);
  h5::WriteColumn(g.id(), "instance", instance);
  h5::WriteColumn(g.id(), "gpu", gpu);
  h5::WriteColumn(g.id(), "sm_count", sm);
  h5::WriteColumn(g.id(), "quota", quota);
  h5::WriteStringColumn(g.id(), "detail", detail);
}

}  // namespace

ResultRun::~ResultRun() {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  sink_.reset();
  group_.Reset();
}

ResultFile::ResultFile(const std::string& final_path, const std::string& scenario_name, const std::string& command)
    : final_path_(final_path) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  std::filesystem::path p(final_path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  temp_path_ = final_path + ".tmp-" + std::to_string(::getpid());
  file_ = h5::CreateFile(temp_path_);
  h5::WriteStringAttribute(file_.id(), "gpuslice_version", GPUSLICE_VERSION);
  h5::WriteStringAttribute(file_.id(), "git_commit", GitCommit());
  h5::WriteDoubleAttribute(file_.id(), "schema_version", kResultSchemaVersion);
  h5::WriteStringAttribute(file_.id(), "scenario", scenario_name);
  h5::WriteStringAttribute(file_.id(), "command", command);
  h5::WriteStringAttribute(file_.id(), "layout", "docs/hdf5.md");
  runs_ = h5::CreateGroup(file_.id(), "runs");
}

ResultFile::~ResultFile() {
  if (committed_) return;
  {
    std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
    runs_.Reset();
    file_.Reset();
  }
  std::remove(temp_path_.c_str());
}

std::unique_ptr<ResultRun> ResultFile::BeginRun(const std::string& run_name, const Scenario& scenario) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  std::unique_ptr<ResultRun> run(new ResultRun());
  run->name_ = run_name;
  run->group_ = h5::CreateGroup(runs_.id(), run_name);
  if (!scenario.per_request) return run;
  h5::Handle requests = h5::CreateGroup(run->group_.id(), "requests");
  nlohmann::ordered_json functions = scenario.function_names;
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const ModelSpec& m : scenario.models) models.push_back(m.name);
  h5::WriteStringAttribute(requests.id(), "function_names", functions.dump());
  h5::WriteStringAttribute(requests.id(), "model_names", models.dump());
  h5::WriteStringAttribute(requests.id(), "status_codes",
                           R"({"0": "completed", "1": "queue_timeout", "2": "no_capacity", "3": "admission"})");
  run->sink_ = std::make_unique<H5RequestSink>(requests.id());
  return run;
}

void ResultFile::EndRun(std::unique_ptr<ResultRun> run, const RunResult& r, const Scenario& scenario) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  run->sink_.reset();
  const hid_t g = run->group_.id();
  h5::WriteStringAttribute(g, "policy", r.policy);
  h5::WriteStringAttribute(g, "scenario_json", r.scenario.dump());
  h5::WriteStringAttribute(g, "summary_json", RunSummaryJson(r).dump());
  h5::WriteDoubleAttribute(g, "seed", static_cast<double>(r.seed));
  h5::WriteDoubleAttribute(g, "simulated_s", r.simulated_s);
  WriteSummary(g, r);
  WriteTimeSeries(g, *r.metrics, scenario);
  WriteLatencyHistogram(g, *r.metrics, scenario);
  WriteActions(g, r.actions, scenario);
}

void ResultFile::DiscardRun(std::unique_ptr<ResultRun> run) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  const std::string name = run->name_;
  run.reset();
  h5::Unlink(runs_.id(), name);
}

void ResultFile::Commit(const std::vector<std::string>& run_order, bool interrupted) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  h5::WriteStringAttribute(file_.id(), "run_order", nlohmann::ordered_json(run_order).dump());
  h5::WriteDoubleAttribute(file_.id(), "interrupted", interrupted ? 1.0 : 0.0);
  runs_.Reset();
  file_.Reset();
  std::filesystem::rename(temp_path_, final_path_);
  committed_ = true;
}

}  // namespace gpuslice
