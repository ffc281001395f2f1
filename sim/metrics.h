// Metrics: what a run measured, collected as it runs, in memory that grows with the number
// of models and intervals but never with the number of requests.
//
// Per model: arrivals, completions, drops by reason, SLO violations (completed late plus
// dropped), latency and queueing-delay distributions, cold starts, peak instances, and the
// bookkeeping for Little's law. Per interval: the time series of DESIGN.md. Each request's
// end can also be streamed to a RequestSink (the optional per-request table).
#ifndef GPUSLICE_SIM_METRICS_H_
#define GPUSLICE_SIM_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster/accumulator.h"
#include "sim/cluster/instance.h"
#include "sim/histogram.h"

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

struct ModelCounters {
  uint64_t arrived = 0;
  uint64_t completed = 0;
  uint64_t completed_late = 0;
  std::array<uint64_t, kDropReasonCount> dropped{};
  uint64_t cold_starts = 0;
  int peak_instances = 0;
  uint64_t batches = 0;
  uint64_t batched_requests = 0;
  double sm_busy_s = 0;  // Σ SMs × quota × batch execution time
  LatencyHistogram latency;
  LatencyHistogram queue_wait;
  // Little's law: ∫ N(t) dt (requests in the system, arrival to the end of GPU work or
  // drop) and the matching Σ of time in system of requests that ended.
  TimeIntegral in_system;
  double ended_system_time_s = 0;

  uint64_t dropped_total() const { return dropped[0] + dropped[1] + dropped[2]; }
  uint64_t violations() const { return completed_late + dropped_total(); }
};

class Metrics {
 public:
  Metrics(const Scenario& scenario, RequestSink* sink);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void OnArrival(const Request& r, SimTime now);
  // `left_pod` is when the request left its pod (its batch, then any post-processing, done);
  // its latency adds the model's network time.
  void OnComplete(const Request& r, SimTime batch_start, SimTime left_pod, int instance, int batch);
  // `instance`: where it was dropped; -1 outside any instance (the model's buffer).
  void OnDrop(const Request& r, SimTime now, DropReason reason, int instance = -1);
  void OnBatchStart(int model, int batch);
  // SM-seconds a model's slice held the GPU's SMs (one token period).
  void OnGpuBusy(int model, double sm_busy_s);
  void OnColdStart(int model) { ++models_[static_cast<size_t>(model)].cold_starts; }
  // `live` instances of the model, `total` of all models, after a start.
  void OnInstanceCount(int model, int live, int total);
  int peak_total_instances() const { return peak_total_instances_; }

  // Appends the samples of the interval that ends now.
  void AddSample(int model, const IntervalSample& sample);
  void AddOverallSample(const IntervalSample& sample) { overall_samples_.push_back(sample); }

  const ModelCounters& model(int m) const { return models_[static_cast<size_t>(m)]; }
  size_t model_count() const { return models_.size(); }
  SimTime interval() const { return interval_; }
  bool per_model_series() const { return per_model_series_; }
  const std::vector<IntervalCounts>& overall_counts() const { return overall_counts_; }
  const std::vector<IntervalCounts>& model_counts(int m) const { return model_counts_[static_cast<size_t>(m)]; }
  const std::vector<IntervalSample>& overall_samples() const { return overall_samples_; }
  const std::vector<IntervalSample>& model_samples(int m) const { return model_samples_[static_cast<size_t>(m)]; }

 private:
  IntervalCounts& Bucket(std::vector<IntervalCounts>& series, SimTime t);
  void CountEvent(int model, SimTime t, uint32_t IntervalCounts::*field, double latency_ms = 0);

  std::vector<ModelCounters> models_;
  std::vector<SimTime> slo_;
  std::vector<SimTime> network_;
  SimTime interval_;
  bool per_model_series_;
  RequestSink* sink_;
  int peak_total_instances_ = 0;
  std::vector<IntervalCounts> overall_counts_;
  std::vector<std::vector<IntervalCounts>> model_counts_;
  std::vector<IntervalSample> overall_samples_;
  std::vector<std::vector<IntervalSample>> model_samples_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_METRICS_H_
