#include "sim/executor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gpuslice {
namespace {

std::vector<LatencyCurve> CurvesOf(const Scenario& s) {
  std::vector<LatencyCurve> curves;
  for (const ModelSpec& m : s.models) curves.push_back(m.curve);
  return curves;
}

}  // namespace

Executor::Executor(const Scenario& scenario, Engine& engine, Cluster& cluster, Metrics& metrics,
                   ActionLog& actions)
    : scenario_(scenario),
      engine_(engine),
      cluster_(cluster),
      metrics_(metrics),
      actions_(actions),
      perf_(CurvesOf(scenario), scenario.token_window_ms),
      noise_rng_(scenario.seed, "noise/executor"),
      live_(scenario.models.size()),
      buffers_(scenario.models.size()),
      inflight_(scenario.models.size(), 0),
      arrived_(scenario.models.size(), 0) {
  for (const ModelSpec& m : scenario.models) {
    queue_timeout_.push_back(SecondsToSim(m.queue_timeout_s));
    batch_timeout_.push_back(MillisToSim(m.batch_timeout_ms));
  }
}

void Executor::Log(const char* kind, const Instance& inst, std::string detail) {
  const Slice& s = cluster_.slice(inst.slice);
  actions_.Add(Action{engine_.Now(), kind, inst.model, inst.id, inst.gpu, s.sm_count, s.quota, std::move(detail)});
}

int Executor::StartInstance(const SliceRequest& request, bool warm, std::string* why, int max_batch) {
  const SimTime now = engine_.Now();
  const int slice = cluster_.AllocateSlice(request, now, why);
  if (slice < 0) return -1;
  Instance inst;
  inst.id = static_cast<int>(instances_.size());
  inst.model = request.model;
  inst.slice = slice;
  inst.gpu = request.gpu;
  inst.created_at = now;
  const ModelSpec& m = scenario_.models[static_cast<size_t>(request.model)];
  inst.max_batch = max_batch > 0 ? max_batch : m.max_batch;
  const SimTime cold = warm ? 0 : SecondsToSim(scenario_.container_start_s + m.load_time_s);
  inst.ready_at = now + cold;
  instances_.push_back(std::move(inst));
  Instance& placed = instances_.back();
  if (instance_of_slice_.size() <= static_cast<size_t>(slice)) instance_of_slice_.resize(static_cast<size_t>(slice) + 1, -1);
  instance_of_slice_[static_cast<size_t>(slice)] = placed.id;
  live_[static_cast<size_t>(request.model)].push_back(placed.id);
  metrics_.OnInstanceCount(request.model, static_cast<int>(live_[static_cast<size_t>(request.model)].size()),
                           ++total_live_);
  if (!warm) metrics_.OnColdStart(request.model);
  Log("start", placed, warm ? "warm" : "cold");
  CheckCluster();
  engine_.Schedule(placed.ready_at, this, Tag(kReady, static_cast<uint64_t>(placed.id), 0));
  return placed.id;
}

void Executor::CheckCluster() const {
  if (!paranoid_) return;
  const std::string broken = cluster_.CheckInvariants();
  if (!broken.empty()) {
    throw std::logic_error("cluster invariant violated at " + std::to_string(SimToSeconds(engine_.Now())) + " s: " + broken);
  }
}

bool Executor::SetQuota(int id, double quota, std::string* why) {
  Instance& inst = instances_[static_cast<size_t>(id)];
  if (!cluster_.SetQuota(inst.slice, quota, engine_.Now(), why)) return false;
  Log("resize", inst, "quota");
  CheckCluster();
  return true;
}

void Executor::Drain(int id) {
  Instance& inst = instances_[static_cast<size_t>(id)];
  inst.state = InstanceState::kDraining;
  Log("drain", inst);
  MaybeRetire(inst);
}

void Executor::MaybeRetire(Instance& inst) {
  if (inst.state != InstanceState::kDraining || inst.busy()) return;
  // A draining instance still serves what it queued; it retires once that is done.
  if (!inst.queue.items.empty()) {
    TryStartBatch(inst);
    return;
  }
  inst.state = InstanceState::kGone;
  cluster_.FreeSlice(inst.slice, engine_.Now());
  auto& live = live_[static_cast<size_t>(inst.model)];
  live.erase(std::find(live.begin(), live.end(), inst.id));
  --total_live_;
  Log("gone", inst);
  CheckCluster();
  if (listener_ != nullptr) listener_->OnInstanceGone(inst.id);
}

void Executor::ArmTimeout(RequestQueue& q, Kind timer_kind, uint64_t target, SimTime timeout) {
  if (q.items.empty()) return;
  const SimTime due = q.items.front().arrival + timeout;
  // A timer already armed no later than `due` will re-arm itself when it fires.
  if (q.timer_at <= due) return;
  q.timer_at = due;
  ++q.timer_generation;
  engine_.Schedule(std::max(due, engine_.Now()), this, Tag(timer_kind, target, q.timer_generation));
}

void Executor::Enqueue(RequestQueue& q, const Request& r, Kind timer_kind, uint64_t target) {
  Request queued = r;
  queued.enqueued = engine_.Now();
  q.items.push_back(queued);
  if (q.items.size() == 1) ArmTimeout(q, timer_kind, target, queue_timeout_[static_cast<size_t>(r.model)]);
}

void Executor::ExpireQueue(RequestQueue& q, SimTime now, SimTime timeout, Kind timer_kind, uint64_t target) {
  q.timer_at = kForever;
  while (!q.items.empty() && q.items.front().arrival + timeout <= now) {
    Request r = q.items.front();
    q.items.pop_front();
    Drop(r, DropReason::kQueueTimeout);
  }
  ArmTimeout(q, timer_kind, target, timeout);
}

void Executor::Admit(const Request& r) {
  ++arrived_[static_cast<size_t>(r.model)];
  ++inflight_[static_cast<size_t>(r.model)];
  ++total_inflight_;
}

void Executor::Route(const Request& r, int id) {
  Instance& inst = instances_[static_cast<size_t>(id)];
  Enqueue(inst.queue, r, kInstanceTimeout, static_cast<uint64_t>(id));
  if (!inst.busy()) TryStartBatch(inst);
}

void Executor::Buffer(const Request& r) {
  Enqueue(buffers_[static_cast<size_t>(r.model)], r, kBufferTimeout, static_cast<uint64_t>(r.model));
}

bool Executor::PopBuffered(int model, Request* out) {
  RequestQueue& q = buffers_[static_cast<size_t>(model)];
  if (q.items.empty()) return false;
  *out = q.items.front();
  q.items.pop_front();
  return true;
}

void Executor::Drop(const Request& r, DropReason reason) {
  metrics_.OnDrop(r, engine_.Now(), reason);
  EndRequest(r.model);
}

void Executor::EndRequest(int model) {
  --inflight_[static_cast<size_t>(model)];
  --total_inflight_;
  if (arrivals_done_ && total_inflight_ == 0) engine_.Stop();
}

void Executor::SetArrivalsDone() {
  arrivals_done_ = true;
  if (total_inflight_ == 0) engine_.Stop();
}

void Executor::TryStartBatch(Instance& inst) {
  if (inst.busy() || engine_.Now() < inst.ready_at || inst.state == InstanceState::kGone) return;
  const size_t model = static_cast<size_t>(inst.model);
  const SimTime now = engine_.Now();
  // Requests past their deadline never start.
  while (!inst.queue.items.empty() && inst.queue.items.front().arrival + queue_timeout_[model] <= now) {
    Request r = inst.queue.items.front();
    inst.queue.items.pop_front();
    Drop(r, DropReason::kQueueTimeout);
  }
  if (inst.queue.items.empty()) return;
  const size_t max_batch = static_cast<size_t>(inst.max_batch);
  if (inst.queue.items.size() < max_batch && batch_timeout_[model] > 0) {
    const SimTime due = inst.queue.items.front().enqueued + batch_timeout_[model];
    if (now < due) {
      if (inst.batch_timer_at != due) {
        inst.batch_timer_at = due;
        ++inst.batch_timer_generation;
        engine_.Schedule(due, this, Tag(kBatchTimer, static_cast<uint64_t>(inst.id), inst.batch_timer_generation));
      }
      return;
    }
  }
  inst.batch_timer_at = kForever;
  const size_t n = std::min(max_batch, inst.queue.items.size());
  inst.batch.assign(inst.queue.items.begin(), inst.queue.items.begin() + static_cast<long>(n));
  inst.queue.items.erase(inst.queue.items.begin(), inst.queue.items.begin() + static_cast<long>(n));
  inst.batch_started_at = now;
  const Slice& slice = cluster_.slice(inst.slice);
  const SliceShape shape{slice.sm_count, cluster_.gpu(inst.gpu).spec->sm_count, slice.quota};
  double ms = perf_.BatchLatencyMs(inst.model, static_cast<int>(n), shape);
  if (scenario_.interference) ms *= InterferenceFactor(inst);
  switch (scenario_.noise) {
    case NoiseKind::kNone: break;
    case NoiseKind::kLogNormal: ms *= noise_rng_.LogNormalMeanOne(scenario_.noise_cv); break;
    case NoiseKind::kExponential: ms = noise_rng_.Exponential(ms); break;
  }
  const SimTime service = std::max<SimTime>(1, MillisToSim(ms));
  metrics_.OnBatchStart(inst.model, static_cast<int>(n), slice.sm_count * slice.quota * SimToSeconds(service));
  engine_.Schedule(now + service, this, Tag(kBatchDone, static_cast<uint64_t>(inst.id), 0));
}

double Executor::InterferenceFactor(const Instance& inst) const {
  const Slice& mine = cluster_.slice(inst.slice);
  const Gpu& gpu = cluster_.gpu(inst.gpu);
  if (gpu.slices.size() < 2) return 1.0;
  const auto& c = scenario_.interference_coefficients;
  const ModelSpec& self = scenario_.models[static_cast<size_t>(inst.model)];
  const double f_self = static_cast<double>(mine.sm_count) / gpu.spec->sm_count;
  double worst = 1.0;
  for (int sid : gpu.slices) {
    const Slice& other = cluster_.slice(sid);
    if (other.partition == mine.partition) continue;  // time-shares with us: never at once
    const int oid = instance_of_slice_[static_cast<size_t>(sid)];
    if (oid < 0 || !instances_[static_cast<size_t>(oid)].busy()) continue;
    const ModelSpec& o = scenario_.models[static_cast<size_t>(other.model)];
    const double f_other = static_cast<double>(other.sm_count) / gpu.spec->sm_count;
    const double alpha = GpuletAlpha(c, {self.l2_util, self.dram_util, f_self}, {o.l2_util, o.dram_util, f_other});
    worst = std::max(worst, alpha);
  }
  return worst;
}

void Executor::FinishBatch(Instance& inst) {
  const SimTime now = engine_.Now();
  const int n = static_cast<int>(inst.batch.size());
  for (const Request& r : inst.batch) {
    metrics_.OnComplete(r, inst.batch_started_at, now, inst.id, n);
  }
  const int model = inst.model;
  inflight_[static_cast<size_t>(model)] -= n;
  total_inflight_ -= n;
  inst.batch.clear();
  const int id = inst.id;
  if (listener_ != nullptr) listener_->OnBatchDone(id);
  Instance& after = instances_[static_cast<size_t>(id)];  // the listener may have grown the vector
  TryStartBatch(after);
  MaybeRetire(after);
  if (arrivals_done_ && total_inflight_ == 0) engine_.Stop();
}

void Executor::OnEvent(SimTime now, uint64_t tag) {
  const Kind kind = static_cast<Kind>(tag >> 60);
  const uint64_t target = (tag >> 32) & 0x0FFFFFFF;
  const uint32_t generation = static_cast<uint32_t>(tag);
  switch (kind) {
    case kReady: {
      Instance& inst = instances_[target];
      if (inst.state == InstanceState::kLoading) {
        inst.state = InstanceState::kReady;
        Log("ready", inst);
        if (listener_ != nullptr) listener_->OnInstanceReady(inst.id);
      }
      Instance& after = instances_[target];
      TryStartBatch(after);
      MaybeRetire(after);
      break;
    }
    case kBatchDone:
      FinishBatch(instances_[target]);
      break;
    case kInstanceTimeout: {
      Instance& inst = instances_[target];
      if (generation != inst.queue.timer_generation) break;
      ExpireQueue(inst.queue, now, queue_timeout_[static_cast<size_t>(inst.model)], kInstanceTimeout, target);
      MaybeRetire(inst);
      break;
    }
    case kBufferTimeout: {
      RequestQueue& q = buffers_[target];
      if (generation != q.timer_generation) break;
      ExpireQueue(q, now, queue_timeout_[target], kBufferTimeout, target);
      break;
    }
    case kBatchTimer: {
      Instance& inst = instances_[target];
      if (generation != inst.batch_timer_generation) break;
      inst.batch_timer_at = kForever;
      TryStartBatch(inst);
      break;
    }
  }
}

}  // namespace gpuslice
