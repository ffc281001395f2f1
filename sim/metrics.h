// Metrics: what a run measured, collected as it runs, in memory that grows with the number
// of models and intervals but never with the number of requests.
//
// Per model: arrivals, completions, drops by reason, SLO violations (completed late plus
// dropped), latency and queueing-delay distributions, cold starts, peak instances, and the
// bookkeeping for Little's law. Per interval: the time series of DESIGN.md. Each request's
// end can also be streamed to a RequestSink (the optional per-request table).
//
// With a helper thread, the per-model counters (ModelCounters) are updated on it, in the
// order the run reported them: the same operations in the same order, so the results are
// the same bits as without it. The run's thread then only appends each update to a block;
// at thousands of models, the counters it no longer touches were a cache miss or more per
// request (the histograms' buckets above all). What the run reads as it goes (the requests
// in the system over time), the interval counts, the sinks and the peak of all instances
// stay on the run's thread.
#ifndef GPUSLICE_SIM_METRICS_H_
#define GPUSLICE_SIM_METRICS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/cluster/accumulator.h"
#include "sim/cluster/instance.h"
#include "sim/histogram.h"
#include "sim/util/block_channel.h"

namespace gpuslice {

struct Scenario;

struct RequestRecord {
  uint64_t id;
  int32_t function;
  int32_t model;
  SimTime arrival;
  SimTime start;  // batch start, -1 if dropped
  SimTime end;    // completion (with overhead) or drop
  int32_t instance;
  int32_t batch;
  uint8_t status;  // 0 completed, else DropReason
  int32_t input_tokens;
  int32_t output_tokens;
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void Write(const RequestRecord& record) = 0;
};

// Counters of one interval of the time series.
struct IntervalCounts {
  uint32_t arrivals = 0;
  uint32_t completions = 0;
  uint32_t violations = 0;
  uint32_t drops = 0;
  double latency_sum_ms = 0;
};

// Snapshot values sampled at the end of each interval.
struct IntervalSample {
  int32_t instances = 0;        // live: loading, ready or draining
  int32_t instances_ready = 0;
  int32_t queue_length = 0;     // waiting, not executing
  double gpu_fraction_held = 0; // time-average over the interval of Σ SM fraction × quota
  double gpus_held = 0;         // time-average of whole GPUs held
  double sm_held = 0;           // time-average of Σ SMs × quota
  double cost_fractional_usd = 0;
  double cost_whole_usd = 0;
};

// Receives the time series one interval at a time as intervals close (no later event counts
// in a closed interval), so that a run's memory does not grow with simulated time.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  // `index`: the interval's number from 0. `model_counts` and `model_samples` hold one entry
  // per model when per-model series are on, else none.
  virtual void WriteInterval(size_t index, const IntervalCounts& counts, const IntervalSample& sample,
                             const std::vector<IntervalCounts>& model_counts,
                             const std::vector<IntervalSample>& model_samples) = 0;
};

// One model's counters. Aligned to a cache line and ordered by what touches them: an
// arrival reads the first line; a completion the first three (with both histograms' headers);
// at thousands of models each line is a cache miss.
struct alignas(64) ModelCounters {
  uint64_t arrived = 0;
  uint64_t completed = 0;
  uint64_t completed_late = 0;
  // Little's law: the Σ of time in system of requests that ended (the matching ∫ N(t) dt is
  // Metrics::in_system, on the run's thread).
  double ended_system_time_s = 0;
  uint64_t batches = 0;
  LatencyHistogram latency;
  uint64_t batched_requests = 0;
  LatencyHistogram queue_wait;
  uint64_t cold_starts = 0;
  std::array<uint64_t, kDropReasonCount> dropped{};
  int peak_instances = 0;
  double sm_busy_s = 0;  // Σ SMs × quota × batch execution time

  uint64_t dropped_total() const { return dropped[0] + dropped[1] + dropped[2]; }
  uint64_t violations() const { return completed_late + dropped_total(); }
};

class Metrics {
 public:
  // `series` receives the time series (nullptr: it is not kept). Neither sink is owned.
  // `helper_thread`: update the per-model counters on a thread of their own (see above).
  Metrics(const Scenario& scenario, RequestSink* sink, SeriesSink* series = nullptr, bool helper_thread = false);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  ~Metrics();

  void OnArrival(const Request& r, SimTime now);
  // `left_pod` is when the request left its pod (its batch, then any post-processing, done);
  // its latency adds the model's network time. REQUIRES: in an interval not yet closed.
  void OnComplete(const Request& r, SimTime batch_start, SimTime left_pod, int instance, int batch);
  // `instance`: where it was dropped; -1 outside any instance (the model's buffer).
  void OnDrop(const Request& r, SimTime now, DropReason reason, int instance = -1);
  void OnBatchStart(int model, int batch);
  // SM-seconds a model's slice held the GPU's SMs (one token period).
  void OnGpuBusy(int model, double sm_busy_s);
  void OnColdStart(int model);
  // `live` instances of the model, `total` of all models, after a start.
  void OnInstanceCount(int model, int live, int total);
  int peak_total_instances() const { return peak_total_instances_; }

  // The samples of the interval that ends now: each model's (when per-model series are on),
  // then the overall one, which closes the interval and hands it to the series sink.
  void AddSample(int model, const IntervalSample& sample);
  void CloseInterval(const IntervalSample& overall);
  // Intervals closed so far, and closed or holding an event.
  size_t intervals_closed() const { return first_open_; }
  size_t intervals_seen() const { return first_open_ + open_counts_.size(); }

  // Applies every counter update reported so far and stops the helper thread, if any;
  // rethrows what it failed with. Nothing may be reported after it.
  void Finish();
  // REQUIRES: Finish() called when there is a helper thread (throws std::logic_error if not).
  const ModelCounters& model(int m) const;
  // ∫ N(t) dt of the model's requests in the system (arrival to the end of GPU work or drop),
  // for Little's law and the policies that average concurrency; current as the run goes.
  const TimeIntegral& in_system(int m) const { return in_system_[static_cast<size_t>(m)]; }
  size_t model_count() const { return models_.size(); }
  SimTime interval() const { return interval_; }
  bool per_model_series() const { return per_model_series_; }

 private:
  void CountEvent(int model, SimTime t, uint32_t IntervalCounts::*field, double latency_ms = 0);

  // One update of one model's counters.
  struct CounterUpdate {
    enum Kind : uint8_t { kArrival, kComplete, kDrop, kBatchStart, kGpuBusy, kColdStart, kInstances };
    Kind kind;
    uint8_t flag;     // kComplete: late; kDrop: the reason
    int32_t model;
    int32_t count;    // kBatchStart: the batch; kInstances: live instances
    SimTime at;       // kDrop: now; kComplete: when it left the pod
    SimTime arrival;  // kComplete, kDrop: the request's arrival
    SimTime latency;  // kComplete
    SimTime wait;     // kComplete: queueing delay
    double sm_busy_s; // kGpuBusy
  };
  static constexpr size_t kUpdatesPerBlock = 4096;
  void Report(const CounterUpdate& u) {
    if (channel_ == nullptr) {
      Apply(u);
      return;
    }
    block_->push_back(u);
    if (block_->size() == kUpdatesPerBlock) Ship();
  }
  void Apply(const CounterUpdate& u);
  // Hands the block being filled to the helper thread and takes an empty one.
  void Ship();
  void HelperLoop();

  std::vector<ModelCounters> models_;
  std::vector<TimeIntegral> in_system_;
  std::vector<SimTime> slo_;
  std::vector<SimTime> network_;
  SimTime interval_;
  bool per_model_series_;
  RequestSink* sink_;
  SeriesSink* series_;
  int peak_total_instances_ = 0;
  // The intervals from first_open_ on: [interval][model] counts (one entry per model when
  // per-model series are on), the overall counts, and the samples of the one closing.
  size_t first_open_ = 0;
  std::deque<IntervalCounts> open_counts_;
  std::deque<std::vector<IntervalCounts>> open_model_counts_;
  std::vector<IntervalSample> closing_samples_;
  // The helper thread's pipe (null without one), the block being filled, its error.
  std::unique_ptr<BlockChannel<CounterUpdate>> channel_;
  BlockChannel<CounterUpdate>::Block* block_ = nullptr;
  std::exception_ptr helper_error_;
  std::thread helper_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_METRICS_H_
