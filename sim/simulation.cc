#include "sim/simulation.h"

#include <chrono>
#include <cmath>

#include "sim/cluster/cluster.h"
#include "sim/engine/engine.h"
#include "sim/executor.h"
#include "sim/policies/policy.h"
#include "traces/prefetched_stream.h"
#include "traces/workload.h"

namespace gpuslice {
namespace {

// The expected end of the run in simulated seconds (RunProgress::end_s); 0 when unknown.
double ExpectedEndS(const Scenario& s) {
  if (s.duration_s > 0) return s.duration_s;
  double end_s = 0;
  for (const WorkloadSource& w : s.workload) {
    double source_end_s = w.end_s;
    if (w.is_trace) {
      if (w.transform.window_end_s <= 0) return 0;  // a whole trace: its span is not known here
      const double copies_shift_s = (std::ceil(w.rate_scale) - 1) * w.copy_shift_s;
      source_end_s = w.start_s + (w.transform.window_end_s - w.transform.window_start_s) / w.transform.time_scale +
                     copies_shift_s;
    }
    end_s = std::max(end_s, source_end_s);
  }
  return end_s;
}

// Calls RunOptions::progress from the event handlers, reading the wall clock only once every
// kTicksPerClockRead ticks, so that a run without a display pays one test per tick.
class ProgressReporter {
 public:
  ProgressReporter(const std::function<void(const RunProgress&)>& callback, double end_s)
      : callback_(callback), last_call_(std::chrono::steady_clock::now()) {
    progress_.end_s = end_s;
  }

  void OnArrival(SimTime now) {
    ++progress_.arrived;
    Tick(now);
  }

  void Tick(SimTime now) {
    if (!callback_ || --ticks_left_ > 0) return;
    ticks_left_ = kTicksPerClockRead;
    const auto wall = std::chrono::steady_clock::now();
    if (wall - last_call_ < std::chrono::milliseconds(250)) return;
    last_call_ = wall;
    Call(now);
  }

  void Finish(SimTime end) {
    if (callback_) Call(end);
  }

 private:
  // An arrival is at least one event, and usually several.
  static constexpr int kTicksPerClockRead = 4096;

  void Call(SimTime now) {
    progress_.simulated_s = SimToSeconds(now);
    callback_(progress_);
  }

  const std::function<void(const RunProgress&)>& callback_;
  RunProgress progress_;
  int ticks_left_ = kTicksPerClockRead;
  std::chrono::steady_clock::time_point last_call_;
};

// Arrivals at or after this are not simulated (duration_s).
SimTime ArrivalCutoff(const Scenario& s) { return s.duration_s > 0 ? SecondsToSim(s.duration_s) : kForever; }

// Pulls arrivals from the stream one at a time and hands each to the policy.
class ArrivalPump final : public EventHandler {
 public:
  ArrivalPump(const Scenario& s, ArrivalStream& stream, Engine& engine, Executor& executor,
              Metrics& metrics, Policy& policy, const std::atomic<bool>* interrupted, ProgressReporter& progress)
      : scenario_(s), stream_(stream), engine_(engine), executor_(executor), metrics_(metrics),
        policy_(policy), interrupted_(interrupted), progress_(progress),
        cutoff_(ArrivalCutoff(s)) {}

  void Prime() { Pull(); }

  void OnEvent(SimTime now, uint64_t tag) override {
    if (tag == kDrainDeadline) {
      engine_.Stop();
      return;
    }
    if (interrupted_ != nullptr && interrupted_->load(std::memory_order_relaxed)) throw Interrupted();
    Request r{next_id_++, now, now, next_.function, scenario_.function_model[static_cast<size_t>(next_.function)],
              next_.input_tokens, next_.output_tokens};
    metrics_.OnArrival(r, now);
    executor_.Admit(r);
    policy_.OnArrival(r);
    progress_.OnArrival(now);
    Pull();
  }

 private:
  static constexpr uint64_t kArrival = 0, kDrainDeadline = 1;

  void Pull() {
    if (stream_.Next(&next_) && next_.time < cutoff_) {
      engine_.Schedule(std::max(next_.time, engine_.Now()), this, kArrival);
      return;
    }
    executor_.SetArrivalsDone();
    engine_.Schedule(engine_.Now() + SecondsToSim(scenario_.drain_s), this, kDrainDeadline);
  }

  const Scenario& scenario_;
  ArrivalStream& stream_;
  Engine& engine_;
  Executor& executor_;
  Metrics& metrics_;
  Policy& policy_;
  const std::atomic<bool>* interrupted_;
  ProgressReporter& progress_;
  SimTime cutoff_;
  Arrival next_{};
  uint64_t next_id_ = 0;
};

// Samples the cluster at the end of every interval for the time series.
class Sampler final : public EventHandler {
 public:
  Sampler(const Scenario& s, Engine& engine, Cluster& cluster, Executor& executor, Metrics& metrics,
          const std::atomic<bool>* interrupted, ProgressReporter& progress)
      : engine_(engine), cluster_(cluster), executor_(executor), metrics_(metrics),
        interrupted_(interrupted), progress_(progress), interval_(SecondsToSim(s.interval_s)), prev_(s.models.size()) {}

  void Start() { engine_.Schedule(interval_, this); }

  void OnEvent(SimTime now, uint64_t) override {
    if (interrupted_ != nullptr && interrupted_->load(std::memory_order_relaxed)) throw Interrupted();
    Sample(now);
    progress_.Tick(now);
    engine_.Schedule(now + interval_, this);
  }

  // Samples the partial interval at the end of the run, if any.
  void Finish(SimTime end) {
    // Events at exactly `end` on an interval boundary open one more (empty) interval.
    const size_t intervals = std::max(metrics_.intervals_seen(),
                                      static_cast<size_t>(std::max<SimTime>(1, (end + interval_ - 1) / interval_)));
    while (metrics_.intervals_closed() < intervals) Sample(end);
  }

 private:
  struct Cumulative {
    double fractional_gpu = 0, whole_gpu = 0, sm_held = 0, fractional_usd = 0, whole_usd = 0;
  };

  void Sample(SimTime now) {
    const double dt = SimToSeconds(now - last_);
    IntervalSample overall;
    for (size_t m = 0; m < prev_.size(); ++m) {
      IntervalSample s;
      for (int id : executor_.instances_of(static_cast<int>(m))) {
        const Instance& inst = executor_.instance(id);
        ++s.instances;
        if (inst.state == InstanceState::kReady) ++s.instances_ready;
        s.queue_length += static_cast<int32_t>(inst.queue.items.size());
      }
      s.queue_length += static_cast<int32_t>(executor_.buffered(static_cast<int>(m)));
      const CostMeters& meters = cluster_.meters(static_cast<int>(m));
      Cumulative now_c{meters.fractional_gpu.ValueAt(now), meters.whole_gpu.ValueAt(now),
                       meters.sm_held.ValueAt(now), meters.fractional_usd.ValueAt(now),
                       meters.whole_usd.ValueAt(now)};
      Cumulative& p = prev_[m];
      if (dt > 0) {
        s.gpu_fraction_held = (now_c.fractional_gpu - p.fractional_gpu) / dt;
        s.gpus_held = (now_c.whole_gpu - p.whole_gpu) / dt;
        s.sm_held = (now_c.sm_held - p.sm_held) / dt;
      }
      s.cost_fractional_usd = now_c.fractional_usd - p.fractional_usd;
      s.cost_whole_usd = now_c.whole_usd - p.whole_usd;
      p = now_c;
      metrics_.AddSample(static_cast<int>(m), s);
      overall.instances += s.instances;
      overall.instances_ready += s.instances_ready;
      overall.queue_length += s.queue_length;
      overall.gpu_fraction_held += s.gpu_fraction_held;
      overall.gpus_held += s.gpus_held;
      overall.sm_held += s.sm_held;
      overall.cost_fractional_usd += s.cost_fractional_usd;
      overall.cost_whole_usd += s.cost_whole_usd;
    }
    metrics_.CloseInterval(overall);
    last_ = now;
  }

  Engine& engine_;
  Cluster& cluster_;
  Executor& executor_;
  Metrics& metrics_;
  const std::atomic<bool>* interrupted_;
  ProgressReporter& progress_;
  SimTime interval_;
  SimTime last_ = 0;
  std::vector<Cumulative> prev_;
};

double Ms(double ns) { return ns * 1e-6; }

void Summarize(const ModelCounters& c, const CostMeters* meters, SimTime end, ModelSummary* s) {
  s->arrived = c.arrived;
  s->completed = c.completed;
  for (int i = 0; i < kDropReasonCount; ++i) s->dropped[i] = c.dropped[static_cast<size_t>(i)];
  s->dropped_total = c.dropped_total();
  s->violations = c.violations();
  const uint64_t ended = c.completed + c.dropped_total();
  s->violation_rate = ended ? static_cast<double>(s->violations) / static_cast<double>(ended) : 0.0;
  const double seconds = SimToSeconds(end);
  s->throughput_rps = seconds > 0 ? static_cast<double>(c.completed) / seconds : 0.0;
  s->latency_mean_ms = Ms(c.latency.mean());
  s->latency_p50_ms = Ms(c.latency.Quantile(0.50));
  s->latency_p90_ms = Ms(c.latency.Quantile(0.90));
  s->latency_p99_ms = Ms(c.latency.Quantile(0.99));
  s->latency_max_ms = Ms(static_cast<double>(c.latency.max()));
  s->queue_wait_mean_ms = Ms(c.queue_wait.mean());
  s->queue_wait_p99_ms = Ms(c.queue_wait.Quantile(0.99));
  s->queue_wait_max_ms = Ms(static_cast<double>(c.queue_wait.max()));
  s->cold_starts = c.cold_starts;
  s->peak_instances = c.peak_instances;
  s->mean_batch_size = c.batches ? static_cast<double>(c.batched_requests) / static_cast<double>(c.batches) : 0.0;
  s->sm_seconds_busy = c.sm_busy_s;
  if (meters != nullptr) {
    s->fractional_gpu_s = meters->fractional_gpu.ValueAt(end);
    s->whole_gpu_s = meters->whole_gpu.ValueAt(end);
    s->fractional_usd = meters->fractional_usd.ValueAt(end);
    s->whole_usd = meters->whole_usd.ValueAt(end);
    s->sm_seconds_held = meters->sm_held.ValueAt(end);
  }
}

}  // namespace

RunResult RunSimulation(const Scenario& scenario, const PolicyRunSpec& run, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  Engine engine;
  Cluster cluster(scenario);
  auto metrics =
      std::make_shared<Metrics>(scenario, options.request_sink, options.series_sink, options.helper_threads);
  RunResult result;
  result.actions.SetSink(options.action_sink, options.keep_actions);
  if (!scenario.log_refusals) result.actions.CountRefusals(scenario.models.size());
  Executor executor(scenario, engine, cluster, *metrics, result.actions);
  std::unique_ptr<Policy> policy =
      PolicyRegistry::Create(run.policy, scenario.file, run.config, "/policies/" + run.run_name, scenario);
  executor.SetListener(policy.get());
  executor.SetParanoid(options.paranoid);
  if (options.external_gpu != nullptr) {
    engine.SetRealTime(options.real_time);
    executor.SetExternalGpu(options.external_gpu, options.real_time);
  }
  PolicyContext ctx{engine, cluster, executor, scenario, result.actions};
  Workload workload(scenario.workload, scenario.seed, scenario.function_index);
  ProgressReporter progress(options.progress, ExpectedEndS(scenario));
  std::unique_ptr<PrefetchedStream> prefetched;
  if (options.helper_threads) {
    prefetched = std::make_unique<PrefetchedStream>(workload.stream(), ArrivalCutoff(scenario));
  }
  ArrivalPump pump(scenario, prefetched ? *prefetched : workload.stream(), engine, executor, *metrics, *policy,
                   options.interrupted, progress);
  Sampler sampler(scenario, engine, cluster, executor, *metrics, options.interrupted, progress);

  policy->Start(ctx);
  if (options.external_gpu != nullptr) {
    options.external_gpu->WaitPrepared();
    options.real_time->Restart();
  }
  sampler.Start();
  pump.Prime();
  engine.Run();
  const SimTime end = engine.Now();
  sampler.Finish(end);
  progress.Finish(end);
  metrics->Finish();
  if (prefetched) prefetched->Stop();

  result.run_name = run.run_name;
  result.policy = run.policy;
  result.seed = scenario.seed;
  result.scenario = scenario.ToJson(&run);
  result.simulated_s = SimToSeconds(end);
  result.events = engine.events_run();
  result.skipped_rows = workload.skipped_rows();
  result.filtered_rows = workload.filtered_rows();

  // In-flight requests at the end, per model, and their time in the system so far.
  std::vector<uint64_t> in_flight(scenario.models.size(), 0);
  std::vector<double> in_flight_time_s(scenario.models.size(), 0.0);
  auto count = [&](const Request& r) {
    ++in_flight[static_cast<size_t>(r.model)];
    in_flight_time_s[static_cast<size_t>(r.model)] += SimToSeconds(end - r.arrival);
  };
  for (const Instance& inst : executor.all_instances()) {
    inst.queue.items.ForEach(count);
    for (const Request& r : inst.batch) count(r);
    for (const PodTask& t : inst.on_cpu) count(t.request);
  }
  for (size_t m = 0; m < scenario.models.size(); ++m) {
    Request r;
    while (executor.PopBuffered(static_cast<int>(m), &r)) count(r);
  }

  LatencyHistogram all_latency, all_wait;
  ModelCounters all;
  double integral = 0, system_time = 0;
  for (size_t m = 0; m < scenario.models.size(); ++m) {
    const ModelCounters& c = metrics->model(static_cast<int>(m));
    ModelSummary s;
    s.name = scenario.models[m].name;
    Summarize(c, &cluster.meters(static_cast<int>(m)), end, &s);
    s.in_flight_at_end = in_flight[m];
    if (c.arrived != c.completed + c.dropped_total() + in_flight[m]) {
      throw std::logic_error("conservation violated for model " + s.name + ": arrived " +
                             std::to_string(c.arrived) + " != completed + dropped + in flight");
    }
    integral += metrics->in_system(static_cast<int>(m)).ValueAt(end);
    system_time += c.ended_system_time_s + in_flight_time_s[m];
    result.models.push_back(s);
    all.arrived += c.arrived;
    all.completed += c.completed;
    all.completed_late += c.completed_late;
    for (size_t i = 0; i < kDropReasonCount; ++i) all.dropped[i] += c.dropped[i];
    all.cold_starts += c.cold_starts;
    all.batches += c.batches;
    all.batched_requests += c.batched_requests;
    all.sm_busy_s += c.sm_busy_s;
    all.latency.Merge(c.latency);
    all.queue_wait.Merge(c.queue_wait);
  }
  result.overall.name = "all";
  Summarize(all, nullptr, end, &result.overall);
  for (const ModelSummary& s : result.models) {
    result.overall.in_flight_at_end += s.in_flight_at_end;
    result.overall.fractional_gpu_s += s.fractional_gpu_s;
    result.overall.whole_gpu_s += s.whole_gpu_s;
    result.overall.fractional_usd += s.fractional_usd;
    result.overall.whole_usd += s.whole_usd;
    result.overall.sm_seconds_held += s.sm_seconds_held;
  }
  result.overall.peak_instances = metrics->peak_total_instances();

  const double t = SimToSeconds(end);
  LittlesLaw& ll = result.littles_law;
  if (t > 0 && all.arrived > 0) {
    ll.time_avg_in_system = integral / t;
    ll.arrival_rate_rps = static_cast<double>(all.arrived) / t;
    ll.mean_time_in_system_s = system_time / static_cast<double>(all.arrived);
    const double lw = ll.arrival_rate_rps * ll.mean_time_in_system_s;
    ll.relative_error = std::fabs(ll.time_avg_in_system - lw) / std::max(ll.time_avg_in_system, 1e-12);
    if (ll.relative_error > 1e-6) {
      throw std::logic_error("Little's law violated: L = " + std::to_string(ll.time_avg_in_system) +
                             ", lambda W = " + std::to_string(lw));
    }
  }
  const std::string broken = cluster.CheckInvariants();
  if (!broken.empty()) throw std::logic_error("cluster invariant violated at the end of the run: " + broken);

  result.metrics = metrics;
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

}  // namespace gpuslice
