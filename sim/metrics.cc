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

Metrics::Metrics(const Scenario& scenario, RequestSink* sink, SeriesSink* series, bool helper_thread)
    : models_(scenario.models.size()),
      in_system_(scenario.models.size()),
      interval_(SecondsToSim(scenario.interval_s)),
      per_model_series_(scenario.per_model_timeseries),
      sink_(sink),
      series_(series),
      closing_samples_(scenario.per_model_timeseries ? scenario.models.size() : 0) {
  for (const ModelSpec& m : scenario.models) {
    slo_.push_back(MillisToSim(m.slo_ms));
    network_.push_back(MillisToSim(m.network_ms));
  }
  if (helper_thread) {
    // Four blocks: one being filled, one being applied, two in between.
    channel_ = std::make_unique<BlockChannel<CounterUpdate>>(4, kUpdatesPerBlock);
    block_ = channel_->Acquire();
    helper_ = std::thread([this] { HelperLoop(); });
  }
}

Metrics::~Metrics() {
  if (helper_.joinable()) {
    channel_->Cancel();
    helper_.join();
  }
}

void Metrics::HelperLoop() {
  try {
    while (BlockChannel<CounterUpdate>::Block* block = channel_->Receive()) {
      for (const CounterUpdate& u : *block) Apply(u);
      channel_->Release(block);
    }
  } catch (...) {
    helper_error_ = std::current_exception();
    channel_->Cancel();
  }
}

void Metrics::Ship() {
  channel_->Publish(block_);
  block_ = channel_->Acquire();
  if (block_ == nullptr) {
    // Cancelled: the helper failed (bad_alloc growing a histogram).
    helper_.join();
    std::rethrow_exception(helper_error_);
  }
}

void Metrics::Finish() {
  if (!helper_.joinable()) return;
  if (block_ != nullptr) channel_->Publish(block_);
  block_ = nullptr;
  channel_->Close();
  helper_.join();
  if (helper_error_) std::rethrow_exception(helper_error_);
}

const ModelCounters& Metrics::model(int m) const {
  if (helper_.joinable()) throw std::logic_error("Metrics: counters read before Finish()");
  return models_[static_cast<size_t>(m)];
}

void Metrics::Apply(const CounterUpdate& u) {
  ModelCounters& m = models_[static_cast<size_t>(u.model)];
  switch (u.kind) {
    case CounterUpdate::kArrival:
      ++m.arrived;
      break;
    case CounterUpdate::kComplete:
      ++m.completed;
      if (u.flag) ++m.completed_late;
      m.latency.Add(u.latency);
      m.queue_wait.Add(u.wait);
      m.ended_system_time_s += SimToSeconds(u.at - u.arrival);
      break;
    case CounterUpdate::kDrop:
      ++m.dropped[u.flag - 1];
      m.ended_system_time_s += SimToSeconds(u.at - u.arrival);
      break;
    case CounterUpdate::kBatchStart:
      ++m.batches;
      m.batched_requests += static_cast<uint64_t>(u.count);
      break;
    case CounterUpdate::kGpuBusy:
      m.sm_busy_s += u.sm_busy_s;
      break;
    case CounterUpdate::kColdStart:
      ++m.cold_starts;
      break;
    case CounterUpdate::kInstances:
      if (u.count > m.peak_instances) m.peak_instances = u.count;
      break;
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
  CounterUpdate u{};
  u.kind = CounterUpdate::kArrival, u.model = r.model;
  Report(u);
  in_system_[static_cast<size_t>(r.model)].AddRate(now, 1.0);
  CountEvent(r.model, now, &IntervalCounts::arrivals);
}

void Metrics::OnComplete(const Request& r, SimTime batch_start, SimTime left_pod, int instance, int batch) {
  const SimTime end = left_pod + network_[static_cast<size_t>(r.model)];
  const SimTime latency = end - r.arrival;
  const bool late = latency > slo_[static_cast<size_t>(r.model)];
  CounterUpdate u{};
  u.kind = CounterUpdate::kComplete, u.flag = late, u.model = r.model, u.at = left_pod, u.arrival = r.arrival;
  u.latency = latency, u.wait = batch_start - r.arrival;
  Report(u);
  in_system_[static_cast<size_t>(r.model)].AddRate(left_pod, -1.0);
  CountEvent(r.model, left_pod, &IntervalCounts::completions, SimToMillis(latency));
  if (late) CountEvent(r.model, left_pod, &IntervalCounts::violations);
  if (sink_ != nullptr) {
    sink_->Write(RequestRecord{r.id, r.function, r.model, r.arrival, batch_start, end, instance, batch, 0,
                               r.input_tokens, r.output_tokens});
  }
}

void Metrics::OnDrop(const Request& r, SimTime now, DropReason reason, int instance) {
  CounterUpdate u{};
  u.kind = CounterUpdate::kDrop, u.flag = static_cast<uint8_t>(reason), u.model = r.model, u.at = now;
  u.arrival = r.arrival;
  Report(u);
  in_system_[static_cast<size_t>(r.model)].AddRate(now, -1.0);
  CountEvent(r.model, now, &IntervalCounts::drops);
  CountEvent(r.model, now, &IntervalCounts::violations);
  if (sink_ != nullptr) {
    sink_->Write(RequestRecord{r.id, r.function, r.model, r.arrival, -1, now, instance, 0,
                               static_cast<uint8_t>(reason), r.input_tokens, r.output_tokens});
  }
}

void Metrics::OnBatchStart(int model, int batch) {
  CounterUpdate u{};
  u.kind = CounterUpdate::kBatchStart, u.model = model, u.count = batch;
  Report(u);
}

void Metrics::OnGpuBusy(int model, double sm_busy_s) {
  CounterUpdate u{};
  u.kind = CounterUpdate::kGpuBusy, u.model = model, u.sm_busy_s = sm_busy_s;
  Report(u);
}

void Metrics::OnColdStart(int model) {
  CounterUpdate u{};
  u.kind = CounterUpdate::kColdStart, u.model = model;
  Report(u);
}

void Metrics::OnInstanceCount(int model, int live, int total) {
  CounterUpdate u{};
  u.kind = CounterUpdate::kInstances, u.model = model, u.count = live;
  Report(u);
  if (total > peak_total_instances_) peak_total_instances_ = total;
}

void Metrics::AddSample(int model, const IntervalSample& sample) {
  if (per_model_series_) closing_samples_[static_cast<size_t>(model)] = sample;
}

}  // namespace gpuslice
