#include "sim/output_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "sim/summary_json.h"
#include "sim/util/error.h"
#include "sim/util/files.h"

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

// Streams the time series into appendable columns, a block of intervals at a time, so that
// memory does not grow with simulated time (docs/hdf5.md "timeseries").
class H5SeriesSink final : public SeriesSink {
 public:
  H5SeriesSink(hid_t run, const Scenario& s)
      : group_(h5::CreateGroup(run, "timeseries")),
        models_(s.per_model_timeseries ? s.models.size() : 0),
        interval_s_(s.interval_s),
        rows_per_flush_(std::clamp<size_t>((size_t{1} << 18) / (models_ + 1), 1, 4096)),
        t_(group_.id(), "t_s", H5T_NATIVE_DOUBLE, "s"),
        arrivals_(group_.id(), "arrivals", H5T_NATIVE_UINT32),
        completions_(group_.id(), "completions", H5T_NATIVE_UINT32),
        violations_(group_.id(), "violations", H5T_NATIVE_UINT32),
        drops_(group_.id(), "drops", H5T_NATIVE_UINT32),
        latency_(group_.id(), "latency_mean_ms", H5T_NATIVE_DOUBLE, "ms"),
        instances_(group_.id(), "instances", H5T_NATIVE_INT32),
        ready_(group_.id(), "instances_ready", H5T_NATIVE_INT32),
        queue_(group_.id(), "queue_length", H5T_NATIVE_INT32),
        fraction_(group_.id(), "gpu_fraction_held", H5T_NATIVE_DOUBLE, "GPU"),
        gpus_(group_.id(), "gpus_held", H5T_NATIVE_DOUBLE, "GPU"),
        sm_(group_.id(), "sm_held", H5T_NATIVE_DOUBLE, "SM"),
        cost_fractional_(group_.id(), "cost_fractional_usd", H5T_NATIVE_DOUBLE, "USD"),
        cost_whole_(group_.id(), "cost_whole_usd", H5T_NATIVE_DOUBLE, "USD") {
    h5::WriteDoubleAttribute(group_.id(), "interval_s", s.interval_s);
    if (models_ == 0) return;
    per_model_ = h5::CreateGroup(group_.id(), "per_model");
    std::vector<std::string> names;
    for (const ModelSpec& spec : s.models) names.push_back(spec.name);
    h5::WriteStringColumn(per_model_.id(), "model", names);
    const hid_t g = per_model_.id();
    m_arrivals_.emplace(g, "arrivals", H5T_NATIVE_UINT32, "", models_);
    m_completions_.emplace(g, "completions", H5T_NATIVE_UINT32, "", models_);
    m_violations_.emplace(g, "violations", H5T_NATIVE_UINT32, "", models_);
    m_drops_.emplace(g, "drops", H5T_NATIVE_UINT32, "", models_);
    m_instances_.emplace(g, "instances", H5T_NATIVE_INT32, "", models_);
    m_queue_.emplace(g, "queue_length", H5T_NATIVE_INT32, "", models_);
    m_fraction_.emplace(g, "gpu_fraction_held", H5T_NATIVE_FLOAT, "GPU", models_);
  }
  ~H5SeriesSink() override { Flush(); }

  void WriteInterval(size_t index, const IntervalCounts& c, const IntervalSample& x,
                     const std::vector<IntervalCounts>& mc, const std::vector<IntervalSample>& mx) override {
    t_v_.push_back(static_cast<double>(index) * interval_s_);
    arrivals_v_.push_back(c.arrivals);
    completions_v_.push_back(c.completions);
    violations_v_.push_back(c.violations);
    drops_v_.push_back(c.drops);
    latency_v_.push_back(c.completions ? c.latency_sum_ms / c.completions : 0.0);
    instances_v_.push_back(x.instances);
    ready_v_.push_back(x.instances_ready);
    queue_v_.push_back(x.queue_length);
    fraction_v_.push_back(x.gpu_fraction_held);
    gpus_v_.push_back(x.gpus_held);
    sm_v_.push_back(x.sm_held);
    cost_fractional_v_.push_back(x.cost_fractional_usd);
    cost_whole_v_.push_back(x.cost_whole_usd);
    for (size_t k = 0; k < models_; ++k) {
      m_arrivals_v_.push_back(mc[k].arrivals);
      m_completions_v_.push_back(mc[k].completions);
      m_violations_v_.push_back(mc[k].violations);
      m_drops_v_.push_back(mc[k].drops);
      m_instances_v_.push_back(mx[k].instances);
      m_queue_v_.push_back(mx[k].queue_length);
      m_fraction_v_.push_back(static_cast<float>(mx[k].gpu_fraction_held));
    }
    if (t_v_.size() >= rows_per_flush_) Flush();
  }

  void Flush() {
    std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
    const size_t rows = t_v_.size();
    if (rows == 0) return;
    Put(t_, t_v_, rows);
    Put(arrivals_, arrivals_v_, rows);
    Put(completions_, completions_v_, rows);
    Put(violations_, violations_v_, rows);
    Put(drops_, drops_v_, rows);
    Put(latency_, latency_v_, rows);
    Put(instances_, instances_v_, rows);
    Put(ready_, ready_v_, rows);
    Put(queue_, queue_v_, rows);
    Put(fraction_, fraction_v_, rows);
    Put(gpus_, gpus_v_, rows);
    Put(sm_, sm_v_, rows);
    Put(cost_fractional_, cost_fractional_v_, rows);
    Put(cost_whole_, cost_whole_v_, rows);
    if (models_ > 0) {
      Put(*m_arrivals_, m_arrivals_v_, rows);
      Put(*m_completions_, m_completions_v_, rows);
      Put(*m_violations_, m_violations_v_, rows);
      Put(*m_drops_, m_drops_v_, rows);
      Put(*m_instances_, m_instances_v_, rows);
      Put(*m_queue_, m_queue_v_, rows);
      Put(*m_fraction_, m_fraction_v_, rows);
    }
  }

 private:
  template <typename T>
  static void Put(h5::AppendableColumn& column, std::vector<T>& values, size_t rows) {
    column.Append(values.data(), rows);
    values.clear();
  }

  h5::Handle group_, per_model_;
  size_t models_;
  double interval_s_;
  size_t rows_per_flush_;
  h5::AppendableColumn t_, arrivals_, completions_, violations_, drops_, latency_, instances_, ready_, queue_,
      fraction_, gpus_, sm_, cost_fractional_, cost_whole_;
  std::optional<h5::AppendableColumn> m_arrivals_, m_completions_, m_violations_, m_drops_, m_instances_, m_queue_,
      m_fraction_;
  std::vector<double> t_v_, latency_v_, fraction_v_, gpus_v_, sm_v_, cost_fractional_v_, cost_whole_v_;
  std::vector<uint32_t> arrivals_v_, completions_v_, violations_v_, drops_v_;
  std::vector<int32_t> instances_v_, ready_v_, queue_v_;
  std::vector<uint32_t> m_arrivals_v_, m_completions_v_, m_violations_v_, m_drops_v_;
  std::vector<int32_t> m_instances_v_, m_queue_v_;
  std::vector<float> m_fraction_v_;
};

// Streams the action log, 4096 actions at a time (docs/hdf5.md, `actions`).
class H5ActionSink final : public ActionSink {
 public:
  H5ActionSink(hid_t run, const Scenario& s)
      : scenario_(s),
        group_(h5::CreateGroup(run, "actions")),
        model_bytes_(LongestModelName(s)),
        kind_type_(h5::FixedStringType(kKindBytes)),
        model_type_(h5::FixedStringType(model_bytes_)),
        t_(group_.id(), "t_s", H5T_NATIVE_DOUBLE, "s"),
        kind_(group_.id(), "kind", kind_type_.id()),
        model_(group_.id(), "model", model_type_.id()),
        instance_(group_.id(), "instance", H5T_NATIVE_INT32),
        gpu_(group_.id(), "gpu", H5T_NATIVE_INT32),
        sm_(group_.id(), "sm_count", H5T_NATIVE_INT32),
        quota_(group_.id(), "quota", H5T_NATIVE_DOUBLE),
        detail_length_(group_.id(), "detail_length", H5T_NATIVE_UINT32, "bytes"),
        detail_text_(group_.id(), "detail_text", H5T_NATIVE_UINT8) {}
  ~H5ActionSink() override { Flush(); }

  void Write(const Action& a) override {
    actions_.push_back(a);
    if (actions_.size() >= 4096) Flush();
  }

  void Flush() {
    std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
    const size_t n = actions_.size();
    if (n == 0) return;
    std::vector<double> t(n), quota(n);
    std::vector<int32_t> instance(n), gpu(n), sm(n);
    std::vector<char> kind(n * kKindBytes, '\0'), model(n * model_bytes_, '\0');
    std::vector<uint32_t> detail_length(n);
    std::vector<char> detail_text;
    for (size_t i = 0; i < n; ++i) {
      const Action& a = actions_[i];
      t[i] = SimToSeconds(a.time);
      if (a.kind.size() > kKindBytes) throw std::logic_error("action kind longer than 16 bytes: " + a.kind);
      a.kind.copy(kind.data() + i * kKindBytes, kKindBytes);
      if (a.model >= 0) scenario_.models[static_cast<size_t>(a.model)].name.copy(model.data() + i * model_bytes_, model_bytes_);
      instance[i] = a.instance;
      gpu[i] = a.gpu;
      sm[i] = a.sm_count;
      quota[i] = a.quota;
      if (a.detail.size() > UINT32_MAX) throw std::logic_error("action detail longer than 4 GiB");
      detail_length[i] = static_cast<uint32_t>(a.detail.size());
      detail_text.insert(detail_text.end(), a.detail.begin(), a.detail.end());
    }
    t_.Append(t.data(), n);
    kind_.Append(kind.data(), n);
    model_.Append(model.data(), n);
    instance_.Append(instance.data(), n);
    gpu_.Append(gpu.data(), n);
    sm_.Append(sm.data(), n);
    quota_.Append(quota.data(), n);
    detail_length_.Append(detail_length.data(), n);
    detail_text_.Append(detail_text.data(), detail_text.size());
    actions_.clear();
  }

 private:
  static constexpr size_t kKindBytes = 16;
  static size_t LongestModelName(const Scenario& s) {
    size_t longest = 1;
    for (const ModelSpec& m : s.models) longest = std::max(longest, m.name.size());
    return longest;
  }

  const Scenario& scenario_;
  h5::Handle group_;
  size_t model_bytes_;
  h5::Handle kind_type_, model_type_;
  // The details as a ragged array: each action's length, and all their UTF-8 bytes back to
  // back. Variable-length strings would live in HDF5's global heap, which no filter compresses
  // (34 bytes of text cost about 54 on disk).
  h5::AppendableColumn t_, kind_, model_, instance_, gpu_, sm_, quota_, detail_length_, detail_text_;
  std::vector<Action> actions_;
};

// A row-major uint64 array of `rank` 1 or 2; `dims` holds its sizes.
// Deflated in chunks of about 64K values when not empty: the per-model matrix is mostly zeros.
void WriteUint64(hid_t group, const std::string& name, const std::vector<uint64_t>& values, int rank,
                 const hsize_t* dims) {
  h5::Handle space(H5Screate_simple(rank, dims, nullptr));
  h5::Handle props = values.empty() ? h5::Handle(H5Pcreate(H5P_DATASET_CREATE))
                                    : h5::DeflatedChunks(rank, dims[0], rank == 2 ? dims[1] : 0);
  h5::Handle ds(H5Dcreate2(group, name.c_str(), H5T_NATIVE_UINT64, space.id(), H5P_DEFAULT, props.id(), H5P_DEFAULT));
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

}  // namespace

bool IsResultRunName(const std::string& run_name) {
  return !run_name.empty() && run_name != "." && run_name != ".." && run_name.find('/') == std::string::npos &&
         run_name.find('\0') == std::string::npos;
}

void CheckResultRunName(const std::string& run_name) {
  if (!IsResultRunName(run_name)) throw InputError("policy run '" + run_name + "': " + kResultRunNameRule);
}

ResultRun::~ResultRun() {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  sink_.reset();
  series_.reset();
  actions_.reset();
  group_.Reset();
}

SeriesSink* ResultRun::series_sink() const { return series_.get(); }
ActionSink* ResultRun::action_sink() const { return actions_.get(); }

ResultFile::ResultFile(const std::string& final_path, const std::string& scenario_name, const std::string& command)
    : final_path_(final_path) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  made_folders_ = MakeParentFolders(final_path);
  temp_path_ = final_path + ".tmp-" + std::to_string(::getpid());
  try {
    try {
      file_ = h5::CreateFile(temp_path_);
    } catch (const std::runtime_error&) {
      throw InputError(final_path + ": cannot write (cannot create " + temp_path_ + ")");
    }
    h5::WriteStringAttribute(file_.id(), "gpuslice_version", GPUSLICE_VERSION);
    h5::WriteStringAttribute(file_.id(), "git_commit", GitCommit());
    h5::WriteDoubleAttribute(file_.id(), "schema_version", kResultSchemaVersion);
    h5::WriteStringAttribute(file_.id(), "scenario", scenario_name);
    h5::WriteStringAttribute(file_.id(), "command", command);
    h5::WriteStringAttribute(file_.id(), "layout", "docs/hdf5.md");
    runs_ = h5::CreateGroup(file_.id(), "runs");
  } catch (...) {
    Discard();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void ResultFile::Discard() noexcept {
  {
    std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
    runs_.Reset();
    file_.Reset();
  }
  std::error_code ec;
  std::filesystem::remove(temp_path_, ec);
  RemoveFoldersIfEmpty(made_folders_);
}

ResultFile::~ResultFile() {
  if (!committed_) Discard();
}

std::unique_ptr<ResultRun> ResultFile::BeginRun(const std::string& run_name, const Scenario& scenario) {
  CheckResultRunName(run_name);
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  std::unique_ptr<ResultRun> run(new ResultRun());
  run->name_ = run_name;
  run->group_ = h5::CreateGroup(runs_.id(), run_name);
  run->series_ = std::make_unique<H5SeriesSink>(run->group_.id(), scenario);
  run->actions_ = std::make_unique<H5ActionSink>(run->group_.id(), scenario);
  if (!scenario.per_request) return run;
  h5::Handle requests = h5::CreateGroup(run->group_.id(), "requests");
  nlohmann::ordered_json functions = scenario.function_names;
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const ModelSpec& m : scenario.models) models.push_back(m.name);
  h5::WriteStringAttribute(requests.id(), "function_names", functions.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  h5::WriteStringAttribute(requests.id(), "model_names", models.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  h5::WriteStringAttribute(requests.id(), "status_codes",
                           R"({"0": "completed", "1": "queue_timeout", "2": "no_capacity", "3": "admission"})");
  run->sink_ = std::make_unique<H5RequestSink>(requests.id());
  return run;
}

void ResultFile::EndRun(std::unique_ptr<ResultRun> run, const RunResult& r, const Scenario& scenario) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  run->sink_.reset();
  run->series_.reset();
  run->actions_.reset();
  const hid_t g = run->group_.id();
  h5::WriteStringAttribute(g, "policy", r.policy);
  // Datasets, not attributes (schema 3): HDF5 does not compress attributes, and these are
  // megabytes for thousands of models.
  h5::WriteTextDataset(g, "scenario_json", r.scenario.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  h5::WriteTextDataset(g, "summary_json", RunSummaryJson(r).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  h5::WriteDoubleAttribute(g, "seed", static_cast<double>(r.seed));
  h5::WriteDoubleAttribute(g, "simulated_s", r.simulated_s);
  WriteSummary(g, r);
  WriteLatencyHistogram(g, *r.metrics, scenario);
}

void ResultFile::DiscardRun(std::unique_ptr<ResultRun> run) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  const std::string name = run->name_;
  run.reset();
  h5::Unlink(runs_.id(), name);
}

void ResultFile::Commit(const std::vector<std::string>& run_order, bool interrupted) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  h5::WriteStringAttribute(file_.id(), "run_order", nlohmann::ordered_json(run_order).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  h5::WriteDoubleAttribute(file_.id(), "interrupted", interrupted ? 1.0 : 0.0);
  runs_.Reset();
  file_.Reset();
  std::error_code ec;
  std::filesystem::rename(temp_path_, final_path_, ec);
  if (ec) throw InputError(final_path_ + ": cannot write: " + ec.message());  // the destructor removes the temporary
  committed_ = true;
}

}  // namespace gpuslice
