#include "sim/metrics.h"

#include "sim/scenario.h"

#include <stdexcept>

namespace gpuslice {

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kQueueTimeout: return "queue_timeout";
    case DropReason::kNoCapacity: return "no_capacity";
    case DropReason::kAdmission: return "admission";
  }
  return "unknown";
}

const char* InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kLoading: return "loading";
    case InstanceState::kReady: return "ready";
    case InstanceState::kDraining: return "draining";
    case InstanceState::kGone: return "gone";
  }
  return "unknown";
}

Metrics::Metrics(const Scenario& scenario, RequestSink* sink, SeriesSink* series)
    : models_(scenario.models.size()),
      interval_(SecondsToSim(scenario.interval_s)),
      per_model_series_(scenario.per_model_timeseries),
      sink_(sink),
      series_(series),
      closing_samples_(scenario.per_model_timeseries ? scenario.models.size() : 0) {
  for (const ModelSpec& m : scenario.models) {
    slo_.push_back(MillisToSim(m.slo_ms));
    network_.push_back(MillisToSim(m.network_ms));
  }
}

void Metrics::CountEvent(int model, SimTime t, uint32_t IntervalCounts::*field, double latency_ms) {
  const size_t index = static_cast<size_t>(t / interval_);
  if (index < first_open_) throw std::logic_error("Metrics: an event counted in a closed interval");
  while (open_counts_.size() <= index - first_open_) {
    open_counts_.emplace_back();
    open_model_counts_.emplace_back(per_model_series_ ? models_.size() : 0);
  }
  IntervalCounts& all = open_counts_[index - first_open_];
  ++(all.*field);
  all.latency_sum_ms += latency_ms;
  if (per_model_series_) {
    IntervalCounts& mine = open_model_counts_[index - first_open_][static_cast<size_t>(model)];
    ++(mine.*field);
    mine.latency_sum_ms += latency_ms;
  }
}

void Metrics::CloseInterval(const IntervalSample& overall) {
  if (open_counts_.empty()) {
    open_counts_.emplace_back();
    open_model_counts_.emplace_back(per_model_series_ ? models_.size() : 0);
  }
  if (series_ != nullptr) {
    series_->WriteInterval(first_open_, open_counts_.front(), overall, open_model_counts_.front(), closing_samples_);
  }
  open_counts_.pop_front();
  open_model_counts_.pop_front();
  ++first_open_;
  for (IntervalSample& s : closing_samples_) s = IntervalSample{};
}

void Metrics::OnArrival(const Request& r, SimTime now) {
  ModelCounters& m = models_[static_cast<size_t>(r.model)];
  ++m.arrived;
  m.in_system.AddRate(now, 1.0);
  CountEvent(r.model, now, &IntervalCounts::arrivals);
}

void Metrics::OnComplete(const Request& r, SimTime batch_start, SimTime left_pod, int instance, int batch) {
  ModelCounters& m = models_[static_cast<size_t>(r.model)];
  const SimTime end = left_pod + network_[static_cast<size_t>(r.model)];
  const SimTime latency = end - r.arrival;
  ++m.completed;
  const bool late = latency > slo_[static_cast<size_t>(r.model)];
  if (late) ++m.completed_late;
  m.latency.Add(latency);
  m.queue_wait.Add(batch_start - r.arrival);
  m.in_system.AddRate(left_pod, -1.0);
  m.ended_system_time_s += SimToSeconds(left_pod - r.arrival);
  CountEvent(r.model, left_pod, &IntervalCounts::completions, SimToMillis(latency));
  if (late) CountEvent(r.model, left_pod, &IntervalCounts::violations);
  if (sink_ != nullptr) {
    sink_->Write(RequestRecord{r.id, r.function, r.model, r.arrival, batch_start, end, instance, batch, 0,
                               r.input_tokens, r.output_tokens});
  }
}

void Metrics::OnDrop(const Request& r, SimTime now, DropReason reason, int instance) {
  ModelCounters& m = models_[static_cast<size_t>(r.model)];
  ++m.dropped[static_cast<size_t>(reason) - 1];
  m.in_system.AddRate(now, -1.0);
  m.ended_system_time_s += SimToSeconds(now - r.arrival);
  CountEvent(r.model, now, &IntervalCounts::drops);
  CountEvent(r.model, now, &IntervalCounts::violations);
  if (sink_ != nullptr) {
    sink_->Write(RequestRecord{r.id, r.function, r.model, r.arrival, -1, now, instance, 0,
                               static_cast<uint8_t>(reason), r.input_tokens, r.output_tokens});
  }
}

void Metrics::OnBatchStart(int model, int batch) {
  ModelCounters& m = models_[static_cast<size_t>(model)];
  ++m.batches;
  m.batched_requests += static_cast<uint64_t>(batch);
}

void Metrics::OnGpuBusy(int model, double sm_busy_s) {
  models_[static_cast<size_t>(model)].sm_busy_s += sm_busy_s;
}

void Metrics::OnInstanceCount(int model, int live, int total) {
  ModelCounters& m = models_[static_cast<size_t>(model)];
  if (live > m.peak_instances) m.peak_instances = live;
  if (total > peak_total_instances_) peak_total_instances_ = total;
}

void Metrics::AddSample(int model, const IntervalSample& sample) {
  if (per_model_series_) closing_samples_[static_cast<size_t>(model)] = sample;
}

}  // namespace gpuslice
