#include "sim/executor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gpuslice {
namespace {

constexpr double kDoneMs = 1e-6;  // 1 ns of work: a batch or CPU task with no more is done

// A running batch's GPU work left at `t` >= its progressed_at, at its current rate: what
// Advance(inst, t) would leave, so that a step predicted from it lands where Advance puts it.
double WorkLeftAt(const Instance& inst, SimTime t) {
  return inst.work_left_ms - SimToMillis(t - inst.progressed_at) * inst.rate;
}

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
      window_(MillisToSim(scenario.token_window_ms)),
      live_(scenario.models.size()),
      buffers_(scenario.models.size()),
      inflight_(scenario.models.size(), 0),
      arrived_(scenario.models.size(), 0) {
  model_hot_.reserve(scenario.models.size());
  for (const ModelSpec& m : scenario.models) {
    ModelHot h;
    h.preprocess_ms = m.preprocess_ms;
    h.postprocess_ms = m.postprocess_ms;
    h.pod_cpu_cores = m.pod_cpu_cores;
    h.noise_cv = m.noise_cv;
    h.queue_timeout = SecondsToSim(m.queue_timeout_s);
    h.batch_timeout = MillisToSim(m.batch_timeout_ms);
    h.l2_offset = static_cast<uint32_t>(util_by_batch_.size());
    h.l2_count = static_cast<uint32_t>(m.l2_util_by_batch.size());
    util_by_batch_.insert(util_by_batch_.end(), m.l2_util_by_batch.begin(), m.l2_util_by_batch.end());
    h.dram_offset = static_cast<uint32_t>(util_by_batch_.size());
    h.dram_count = static_cast<uint32_t>(m.dram_util_by_batch.size());
    util_by_batch_.insert(util_by_batch_.end(), m.dram_util_by_batch.begin(), m.dram_util_by_batch.end());
    model_hot_.push_back(h);
  }
  noise_rng_.reserve(static_cast<size_t>(cluster.gpu_count()));
  for (int g = 0; g < cluster.gpu_count(); ++g) noise_rng_.emplace_back(scenario.seed, "noise/gpu/" + std::to_string(g));
  partition_key_.resize(static_cast<size_t>(cluster.gpu_count()));
  running_on_gpu_.resize(static_cast<size_t>(cluster.gpu_count()));
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
  live_[static_cast<size_t>(request.model)].push_back(placed.id);
  metrics_.OnInstanceCount(request.model, static_cast<int>(live_[static_cast<size_t>(request.model)].size()),
                           ++total_live_);
  if (!warm) metrics_.OnColdStart(request.model);
  Log("start", placed, warm ? "warm" : "cold");
  CheckCluster();
  if (external_ != nullptr) {
    const Slice& shape = cluster_.slice(placed.slice);
    external_->StartInstance({placed.id, placed.model, placed.gpu, shape.partition, shape.sm_count,
                              cluster_.gpu(placed.gpu).spec->sm_count, shape.quota, placed.max_batch});
  }
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
  if (external_ != nullptr) external_->SetQuota(id, quota);
  Log("resize", inst, "quota");
  CheckCluster();
  return true;
}

void Executor::SetMaxBatch(int id, int max_batch) {
  Instance& inst = instances_[static_cast<size_t>(id)];
  if (inst.max_batch == max_batch) return;
  inst.max_batch = max_batch;
  if (external_ != nullptr) external_->SetMaxBatch(id, max_batch);
  Log("resize", inst, "batch " + std::to_string(max_batch));
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
  if (!inst.cpu_idle()) return;  // its CPU tasks end by their own events
  inst.state = InstanceState::kGone;
  cluster_.FreeSlice(inst.slice, engine_.Now());
  // Slices are never reused, so what a gone instance held is freed: the memory of a run
  // grows with the instances alive, not with those ever started. (Its queue is empty, so it
  // holds no blocks.)
  std::vector<Request>().swap(inst.batch);
  std::vector<PodTask>().swap(inst.on_cpu);
  if (static_cast<size_t>(inst.slice) < usage_.size()) usage_[static_cast<size_t>(inst.slice)] = TokenWindow();
  if (external_ != nullptr) external_->StopInstance(inst.id);
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
  q.items.push_back(queued, request_blocks_);
  if (q.items.size() == 1) ArmTimeout(q, timer_kind, target, model_hot_[static_cast<size_t>(r.model)].queue_timeout);
}

void Executor::ExpireQueue(RequestQueue& q, SimTime now, SimTime timeout, Kind timer_kind, uint64_t target) {
  q.timer_at = kForever;
  const bool at_instance = timer_kind != kBufferTimeout;
  while (!q.items.empty() && q.items.front().arrival + timeout <= now) {
    Request r = q.items.front();
    q.items.pop_front(request_blocks_);
    if (at_instance) {
      DropAtInstance(r, instances_[static_cast<size_t>(target)]);
    } else {
      Drop(r, DropReason::kQueueTimeout);
    }
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
  if (model_hot_[static_cast<size_t>(r.model)].preprocess_ms > 0) {
    PodTask t;
    t.request = r;
    StartCpuTask(inst, t);
    return;
  }
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
  q.items.pop_front(request_blocks_);
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
  while (!inst.queue.items.empty() && inst.queue.items.front().arrival + model_hot_[model].queue_timeout <= now) {
    Request r = inst.queue.items.front();
    inst.queue.items.pop_front(request_blocks_);
    DropAtInstance(r, inst);
  }
  if (inst.queue.items.empty()) return;
  const size_t max_batch = static_cast<size_t>(inst.max_batch);
  if (inst.queue.items.size() < max_batch && model_hot_[model].batch_timeout > 0) {
    const SimTime due = inst.queue.items.front().enqueued + model_hot_[model].batch_timeout;
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
  inst.batch.clear();
  inst.queue.items.CopyFront(n, &inst.batch);
  inst.queue.items.pop_front(request_blocks_, n);
  inst.batch_started_at = now;
  if (external_ != nullptr) {
    // The real GPU's token gate, SM partition and co-runners time it; FinishBatch at its end.
    metrics_.OnBatchStart(inst.model, static_cast<int>(n));
    real_time_->Expect();
    RealTime* rt = real_time_;
    const uint64_t tag = Tag(kExternalDone, static_cast<uint64_t>(inst.id), 0);
    external_->RunBatch(inst.id, static_cast<int>(n), [rt, this, tag] { rt->Post(this, tag); });
    return;
  }
  const Slice& slice = cluster_.slice(inst.slice);
  // A whole-batch turn runs at the full partition; a token slice under its quota.
  const SliceShape shape{slice.sm_count, cluster_.gpu(inst.gpu).spec->sm_count, slice.whole_batches ? 1.0 : slice.quota};
  BatchWork work = perf_.BatchWorkMs(inst.model, static_cast<int>(n), shape);
  RngStream& rng = noise_rng_[static_cast<size_t>(inst.gpu)];
  switch (scenario_.noise) {
    case NoiseKind::kNone: break;
    case NoiseKind::kLogNormal: work.work_ms *= rng.LogNormalMeanOne(model_hot_[model].noise_cv); break;
    case NoiseKind::kExponential: work.work_ms = rng.Exponential(work.work_ms); break;
  }
  inst.work_left_ms = std::max(work.work_ms, 1e-6);
  inst.launch_ahead_ms = work.launch_ahead_ms;
  inst.overrunning = false;
  metrics_.OnBatchStart(inst.model, static_cast<int>(n));
  PartitionRun& p = PartitionOf(inst);
  if (p.holder == inst.id && slice.whole_batches) {
    // Whole-batch turns: with another slice waiting, this one goes to the back.
    if (p.waiting.empty()) {
      StartRunning(inst);
      return;
    }
    EndPeriod(p);
  } else if (p.holder == inst.id) {
    // The previous batch ended inside this slice's token: the next one runs on in it (a
    // slice whose quota was cut below 1 since its unlimited grant takes a new token).
    if (now < p.token_end && (p.token_end != kForever || slice.quota >= 1.0)) {
      StartRunning(inst);
      return;
    }
    EndPeriod(p);
  }
  p.waiting.push_back(inst.id);
  Dispatch(p);
}

Executor::PartitionRun& Executor::PartitionOf(Instance& inst) {
  if (inst.partition_run >= 0) return partition_runs_[static_cast<size_t>(inst.partition_run)];
  const Slice& slice = cluster_.slice(inst.slice);
  std::vector<int>& keys = partition_key_[static_cast<size_t>(inst.gpu)];
  if (keys.size() <= static_cast<size_t>(slice.partition)) keys.resize(static_cast<size_t>(slice.partition) + 1, -1);
  int& key = keys[static_cast<size_t>(slice.partition)];
  if (key < 0) {
    key = static_cast<int>(partition_runs_.size());
    partition_runs_.emplace_back();
    partition_runs_.back().key = key;
  }
  inst.partition_run = key;
  return partition_runs_[static_cast<size_t>(key)];
}

static TokenWindow& UsageOf(std::vector<TokenWindow>& usage, int slice) {
  if (usage.size() <= static_cast<size_t>(slice)) usage.resize(static_cast<size_t>(slice) + 1);
  return usage[static_cast<size_t>(slice)];
}

void Executor::Dispatch(PartitionRun& p) {
  if (p.holder >= 0 || p.waiting.empty()) return;
  const SimTime now = engine_.Now();
  if (cluster_.slice(instances_[static_cast<size_t>(p.waiting.front())].slice).whole_batches) {
    // gpu-lets' temporal sharing: the slices take the whole partition for one batch each,
    // in turn (first come, first served), with no quota.
    Instance& inst = instances_[static_cast<size_t>(p.waiting.front())];
    p.waiting.erase(p.waiting.begin());
    p.holder = inst.id;
    p.period_start = now;
    p.token_end = kForever;
    StartRunning(inst);
    return;
  }
  // "A pod may get a token while its usage inside [now - W, now] is below quota_limit x W
  // ... Among runnable pods, those below their request go first (larger unmet share
  // first), then the least used." Request = limit = the slice's quota here, so every
  // runnable slice is below its request; ties go to the earlier waiter.
  size_t best = p.waiting.size();
  SimTime best_unmet = 0, best_used = 0;
  SimTime first_runnable = kForever;
  for (size_t i = 0; i < p.waiting.size(); ++i) {
    const Instance& w = instances_[static_cast<size_t>(p.waiting[i])];
    const Slice& slice = cluster_.slice(w.slice);
    TokenWindow& usage = UsageOf(usage_, w.slice);
    usage.Prune(now, window_);
    const SimTime used = usage.UsageIn(now, window_);
    if (slice.quota < 1.0 && used >= QuotaBudget(slice.quota, window_)) {
      first_runnable = std::min(first_runnable, usage.RunnableAt(now, window_, slice.quota));
      continue;
    }
    const SimTime unmet = QuotaBudget(slice.quota, window_) - used;
    if (best == p.waiting.size() || unmet > best_unmet || (unmet == best_unmet && used < best_used)) {
      best = i;
      best_unmet = unmet;
      best_used = used;
    }
  }
  if (best == p.waiting.size()) {
    // "When no pod may run, it sleeps until the earliest record could free enough."
    if (p.wake_at != first_runnable) {
      p.wake_at = first_runnable;
      ++p.wake_generation;
      engine_.Schedule(first_runnable, this, Tag(kPartitionWake, static_cast<uint64_t>(p.key), p.wake_generation));
    }
    return;
  }
  Instance& inst = instances_[static_cast<size_t>(p.waiting[best])];
  p.waiting.erase(p.waiting.begin() + static_cast<long>(best));
  const double quota = cluster_.slice(inst.slice).quota;
  // "A token lasts quota_request x W." A slice of quota 1 owns its partition outright.
  p.holder = inst.id;
  p.period_start = now;
  p.token_end = quota >= 1.0 ? kForever : now + QuotaBudget(quota, window_);
  StartRunning(inst);
}

void Executor::EndPeriod(PartitionRun& p) {
  const SimTime now = engine_.Now();
  const Instance& holder = instances_[static_cast<size_t>(p.holder)];
  // "The overrun is charged to the pod's usage record afterwards": the record spans the
  // whole period, from the grant to the synchronisation that ended it. Records out of the
  // window go first: only Dispatch's quota rule prunes them otherwise, and gpu-lets' slices
  // (whole batches, no quota) never pass it, so their records grew with simulated time.
  TokenWindow& usage = UsageOf(usage_, holder.slice);
  usage.Prune(now, window_);
  usage.Charge(p.period_start, now);
  const Slice& slice = cluster_.slice(holder.slice);
  metrics_.OnGpuBusy(holder.model, slice.sm_count * SimToSeconds(now - p.period_start));
  p.holder = -1;
  p.token_end = kForever;
  Dispatch(p);
}

void Executor::StartRunning(Instance& inst) {
  if (scenario_.interference) {
    const ModelHot& m = model_hot_[static_cast<size_t>(inst.model)];
    const int batch = static_cast<int>(inst.batch.size());
    inst.load = SliceLoad{UtilAt(m.l2_offset, m.l2_count, batch), UtilAt(m.dram_offset, m.dram_count, batch),
                          static_cast<double>(cluster_.slice(inst.slice).sm_count) /
                              cluster_.gpu(inst.gpu).spec->sm_count};
  }
  PartitionOf(inst);  // Slowdown compares the runners' partitions
  inst.running = true;
  inst.progressed_at = engine_.Now();
  inst.rate = 1.0;
  running_on_gpu_[static_cast<size_t>(inst.gpu)].push_back(inst.id);
  UpdateRates(inst.gpu);
}

void Executor::StopRunning(Instance& inst) {
  Advance(inst, engine_.Now());
  inst.running = false;
  ++inst.run_generation;
  inst.step_at = kForever;
  auto& running = running_on_gpu_[static_cast<size_t>(inst.gpu)];
  running.erase(std::find(running.begin(), running.end(), inst.id));
  UpdateRates(inst.gpu);
}

void Executor::Advance(Instance& inst, SimTime now) {
  const SimTime token_end = PartitionOf(inst).token_end;
  if (!inst.overrunning && now >= token_end) {
    // "The pod's CUDA hook checks at every kernel launch whether the token has run out; if
    // so, it synchronizes the context": the work already queued still runs. The token ran
    // out at token_end, inside this stretch: up to it the batch ran on its token, after it
    // on the queued work.
    inst.work_left_ms = WorkLeftAt(inst, token_end);
    inst.progressed_at = token_end;
    inst.overrunning = true;
    inst.overrun_left_ms = std::min(inst.work_left_ms, inst.launch_ahead_ms);
  }
  const double done_ms = SimToMillis(now - inst.progressed_at) * inst.rate;
  inst.work_left_ms -= done_ms;
  if (inst.overrunning) inst.overrun_left_ms -= done_ms;
  inst.progressed_at = now;
}

void Executor::UpdateRates(int gpu) {
  const SimTime now = engine_.Now();
  const auto& running = running_on_gpu_[static_cast<size_t>(gpu)];
  for (int id : running) Advance(instances_[static_cast<size_t>(id)], now);
  for (int id : running) {
    Instance& inst = instances_[static_cast<size_t>(id)];
    inst.rate = scenario_.interference ? 1.0 / Slowdown(inst) : 1.0;
    ScheduleStep(inst, now);
  }
}

void Executor::ScheduleStep(Instance& inst, SimTime now) {
  const PartitionRun& p = PartitionOf(inst);
  double until_ms = std::max(0.0, inst.work_left_ms);
  if (inst.overrunning) until_ms = std::min(until_ms, std::max(0.0, inst.overrun_left_ms));
  SimTime at = now + static_cast<SimTime>(std::ceil(until_ms / inst.rate * 1e6));
  if (!inst.overrunning && p.token_end < at) {
    // The token runs out first. No step is needed at its end (Advance applies it): the step
    // goes to where the batch then stops, as a step at the token's end would have found it
    // (OnRunStep): finished, or synchronised at once, or after the queued work left.
    const double left_ms = WorkLeftAt(inst, p.token_end);
    const double overrun_ms = std::min(left_ms, inst.launch_ahead_ms);
    at = p.token_end;
    if (left_ms > kDoneMs && overrun_ms > kDoneMs) at += static_cast<SimTime>(std::ceil(overrun_ms / inst.rate * 1e6));
  }
  at = std::max(at, now);
  // The step already pending for that instant stands (a co-runner started or stopped
  // without changing this batch's rate).
  if (at == inst.step_at) return;
  ++inst.run_generation;
  inst.step_at = at;
  engine_.Schedule(at, this, Tag(kRunStep, static_cast<uint64_t>(inst.id), inst.run_generation));
}

void Executor::OnRunStep(Instance& inst, SimTime now) {
  Advance(inst, now);
  PartitionRun& p = PartitionOf(inst);
  if (inst.work_left_ms <= kDoneMs) {
    StopRunning(inst);
    FinishBatch(inst);
    return;
  }
  if (inst.overrunning && inst.overrun_left_ms <= kDoneMs) {
    // Synchronised: the period ends and the batch waits for its next token.
    StopRunning(inst);  // still overrunning up to now
    inst.overrunning = false;
    EndPeriod(p);
    Instance& after = instances_[static_cast<size_t>(inst.id)];
    PartitionRun& again = PartitionOf(after);
    again.waiting.push_back(after.id);
    Dispatch(again);
    return;
  }
  ScheduleStep(inst, now);
}

double Executor::Slowdown(const Instance& inst) const {
  const auto& c = scenario_.interference_coefficients;
  double worst = 1.0;
  for (int oid : running_on_gpu_[static_cast<size_t>(inst.gpu)]) {
    const Instance& o = instances_[static_cast<size_t>(oid)];
    if (o.partition_run == inst.partition_run) continue;  // time-shares with us: never at once
    worst = std::max(worst, GpuletAlpha(c, inst.load, o.load));
  }
  return worst;
}

void Executor::Complete(const Request& r, SimTime batch_started_at, SimTime left_pod_at, int instance, int batch) {
  metrics_.OnComplete(r, batch_started_at, left_pod_at, instance, batch);
  --inflight_[static_cast<size_t>(r.model)];
  --total_inflight_;
}

void Executor::FinishBatch(Instance& inst) {
  const SimTime now = engine_.Now();
  const int n = static_cast<int>(inst.batch.size());
  const bool post = model_hot_[static_cast<size_t>(inst.model)].postprocess_ms > 0;
  for (const Request& r : inst.batch) {
    if (post) {
      StartCpuTask(inst, PodTask{r, true, inst.batch_started_at, n, 0}, /*reschedule=*/false);
    } else {
      Complete(r, inst.batch_started_at, now, inst.id, n);
    }
  }
  if (post) ScheduleCpu(inst, now);  // once for the whole batch
  inst.batch.clear();
  const int id = inst.id;
  if (!post && listener_ != nullptr) listener_->OnSlotsFreed(id);
  Instance& after = instances_[static_cast<size_t>(id)];  // the listener may have grown the vector
  TryStartBatch(after);
  // No next batch: the token is given back at once rather than held idle to its end.
  PartitionRun& p = PartitionOf(after);
  if (p.holder == id && !after.running && !after.busy()) EndPeriod(p);
  MaybeRetire(instances_[static_cast<size_t>(id)]);
  if (arrivals_done_ && total_inflight_ == 0) engine_.Stop();
}

void Executor::DropAtInstance(const Request& r, Instance& inst) {
  metrics_.OnDrop(r, engine_.Now(), DropReason::kQueueTimeout, inst.id);
  EndRequest(r.model);
  NoteSlotsFreed(inst);
}

void Executor::NoteSlotsFreed(Instance& inst) {
  if (inst.slots_notice_armed || listener_ == nullptr) return;
  inst.slots_notice_armed = true;
  engine_.Schedule(engine_.Now(), this, Tag(kSlotsFreed, static_cast<uint64_t>(inst.id), 0));
}

void Executor::StartCpuTask(Instance& inst, PodTask task, bool reschedule) {
  const SimTime now = engine_.Now();
  const ModelHot& m = model_hot_[static_cast<size_t>(inst.model)];
  AdvanceCpu(inst, now);
  task.work_left_ms = task.post ? m.postprocess_ms : m.preprocess_ms;
  inst.on_cpu.push_back(task);
  // A loading pod takes requests but starts on them once it is ready.
  if (now < inst.ready_at) inst.cpu_progressed_at = inst.ready_at;
  if (reschedule) ScheduleCpu(inst, now);
}

// Processor sharing: n tasks on `cores` each progress at min(1, cores / n).
static double CpuRate(double cores, size_t tasks) {
  if (cores <= 0 || tasks == 0) return 1.0;
  return std::min(1.0, cores / static_cast<double>(tasks));
}

void Executor::AdvanceCpu(Instance& inst, SimTime now) {
  if (now > inst.cpu_progressed_at && !inst.on_cpu.empty()) {
    const double rate = CpuRate(model_hot_[static_cast<size_t>(inst.model)].pod_cpu_cores, inst.on_cpu.size());
    const double done_ms = SimToMillis(now - inst.cpu_progressed_at) * rate;
    for (PodTask& t : inst.on_cpu) t.work_left_ms -= done_ms;
  }
  inst.cpu_progressed_at = std::max(inst.cpu_progressed_at, now);
}

void Executor::ScheduleCpu(Instance& inst, SimTime now) {
  if (inst.on_cpu.empty()) {
    ++inst.cpu_generation;
    inst.cpu_event_at = kForever;
    return;
  }
  // The next task to finish, or the first pre-processing deadline (pre-processing has not
  // started its batch: it is dropped at its deadline), whichever comes first.
  const SimTime timeout = model_hot_[static_cast<size_t>(inst.model)].queue_timeout;
  double least_ms = inst.on_cpu.front().work_left_ms;
  SimTime deadline = kForever;
  for (const PodTask& t : inst.on_cpu) {
    least_ms = std::min(least_ms, t.work_left_ms);
    if (!t.post) deadline = std::min(deadline, t.request.arrival + timeout);
  }
  const double rate = CpuRate(model_hot_[static_cast<size_t>(inst.model)].pod_cpu_cores, inst.on_cpu.size());
  const SimTime from = std::max(now, inst.cpu_progressed_at);
  const SimTime at = std::min(from + static_cast<SimTime>(std::ceil(std::max(0.0, least_ms) / rate * 1e6)),
                              std::max(now, deadline));
  // The event already pending for that instant stands (a task was added without changing
  // when the next one is due).
  if (at == inst.cpu_event_at) return;
  ++inst.cpu_generation;
  inst.cpu_event_at = at;
  engine_.Schedule(at, this, Tag(kCpuDone, static_cast<uint64_t>(inst.id), inst.cpu_generation));
}

void Executor::OnCpuDone(Instance& inst, SimTime now) {
  const int id = inst.id;
  AdvanceCpu(inst, now);
  // Requests still pre-processing at their deadline are dropped (their CPU share frees);
  // tasks with no work left are done. One pass, each group kept in order.
  const SimTime timeout = model_hot_[static_cast<size_t>(inst.model)].queue_timeout;
  std::vector<PodTask>& dropped = cpu_dropped_scratch_;
  std::vector<PodTask>& done = cpu_done_scratch_;
  dropped.clear();
  done.clear();
  size_t kept = 0;
  for (size_t i = 0; i < inst.on_cpu.size(); ++i) {
    PodTask& t = inst.on_cpu[i];
    const bool finished = t.work_left_ms <= kDoneMs;
    if (!t.post && t.request.arrival + timeout <= now && !finished) {
      dropped.push_back(t);
    } else if (finished) {
      done.push_back(t);
    } else {
      if (kept != i) inst.on_cpu[kept] = t;
      ++kept;
    }
  }
  inst.on_cpu.resize(kept);
  for (const PodTask& t : dropped) DropAtInstance(t.request, inst);
  ScheduleCpu(inst, now);
  if (done.empty()) {
    MaybeRetire(instances_[static_cast<size_t>(id)]);
    if (arrivals_done_ && total_inflight_ == 0) engine_.Stop();
    return;
  }
  bool left = false;
  for (const PodTask& t : done) {
    Instance& at = instances_[static_cast<size_t>(id)];
    if (t.post) {
      Complete(t.request, t.batch_started_at, now, id, t.batch);
      left = true;
    } else {
      Enqueue(at.queue, t.request, kInstanceTimeout, static_cast<uint64_t>(id));
    }
  }
  Instance& after = instances_[static_cast<size_t>(id)];
  if (!after.busy()) TryStartBatch(after);
  if (left && listener_ != nullptr) listener_->OnSlotsFreed(id);
  MaybeRetire(instances_[static_cast<size_t>(id)]);
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
    case kCpuDone: {
      Instance& inst = instances_[target];
      if (generation != inst.cpu_generation) break;
      inst.cpu_event_at = kForever;
      OnCpuDone(inst, now);
      break;
    }
    case kRunStep: {
      Instance& inst = instances_[target];
      if (!inst.running || generation != inst.run_generation) break;
      inst.step_at = kForever;
      OnRunStep(inst, now);
      break;
    }
    case kPartitionWake: {
      PartitionRun& p = partition_runs_[target];
      if (generation != p.wake_generation) break;
      p.wake_at = kForever;
      Dispatch(p);
      break;
    }
    case kInstanceTimeout: {
      Instance& inst = instances_[target];
      if (generation != inst.queue.timer_generation) break;
      ExpireQueue(inst.queue, now, model_hot_[static_cast<size_t>(inst.model)].queue_timeout, kInstanceTimeout, target);
      MaybeRetire(inst);
      break;
    }
    case kSlotsFreed: {
      Instance& inst = instances_[target];
      inst.slots_notice_armed = false;
      if (listener_ != nullptr) listener_->OnSlotsFreed(inst.id);
      break;
    }
    case kBufferTimeout: {
      RequestQueue& q = buffers_[target];
      if (generation != q.timer_generation) break;
      ExpireQueue(q, now, model_hot_[target].queue_timeout, kBufferTimeout, target);
      break;
    }
    case kExternalDone: {
      FinishBatch(instances_[target]);
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
