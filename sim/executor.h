// Executor: runs the instances of a simulation. It is the API through which a policy acts
// on requests and instances, and it times every batch with the PerfModel (the truth).
//
// What it guarantees:
//  - every request ends exactly once: completed, or dropped with a reason;
//  - queues are FIFO; a request still waiting `queue_timeout_s` after its arrival is
//    dropped (queue_timeout), whether it waits at an instance or in the model's buffer;
//  - an idle ready instance with waiting requests starts a batch of up to max_batch at once,
//    or, with a batch timeout, once the batch is full or its oldest request has waited
//    batch_timeout_ms;
//  - a batch needs the GPU work PerfModel::BatchWorkMs gives (× noise, drawn from its GPU's
//    own stream) and gets it through its SM partition's token scheduler, FaST-GShare's rules
//    (reference/PAPERS.md): a slice may take the partition's token while its usage in the
//    sliding window [now - W, now] is below quota·W; a token lasts quota·W; work queued when
//    it runs out (the batch's launch-ahead) still runs and is charged; waiting slices with
//    the larger unmet share go first, then the least used; one token holder per partition
//    (the SM gate: slices of one partition hold all its SMs, so they take turns). A quota
//    change applies from the slice's next token. A saturated slice therefore never serves
//    more than its quota plus one launch-ahead per token, and a partition never more than
//    its whole time;
//  - while it runs, a batch is slowed by gpu-lets' interference from the batches running in
//    the GPU's other partitions at the same time, recomputed for every runner whenever one
//    starts or stops;
//  - time outside the GPU is split as DESIGN.md says: a routed request is first
//    pre-processed in its pod (preprocess_ms of CPU), then queues for the GPU, and after its
//    batch is post-processed in the pod (postprocess_ms); both hold a slot of the pod
//    (Instance::inflight) but not the GPU. The pod's pre/post-processing share its
//    pod_cpu_cores by processor sharing (n tasks each progress at min(1, cores / n); 0 = no
//    limit): an OS scheduler, or a Python server's GIL at 1 core. The request's latency
//    then adds network_ms, outside the pod, holding nothing.
//    Requests that time out at an instance free their slots for the policy's routing;
//  - instances pass Loading -> Ready -> Draining -> Gone; a slice is freed only when its
//    instance is Gone, and slices are allocated through the Cluster, which enforces the
//    invariants.
//
// The model's buffer stands for Knative's activator: requests that no instance can take yet.
#ifndef GPUSLICE_SIM_EXECUTOR_H_
#define GPUSLICE_SIM_EXECUTOR_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gpu/perf_model.h"
#include "sim/actions.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/instance.h"
#include "sim/engine/engine.h"
#include "sim/engine/real_time.h"
#include "sim/engine/rng.h"
#include "sim/external_gpu.h"
#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/token_window.h"

namespace gpuslice {

// What the executor tells its policy. All default to doing nothing.
class ExecutorListener {
 public:
  virtual void OnInstanceReady(int /*instance*/) {}
  // Requests left the instance (a batch ended, or post-processing did): it may take more.
  virtual void OnSlotsFreed(int /*instance*/) {}
  virtual void OnInstanceGone(int /*instance*/) {}

 protected:
  ~ExecutorListener() = default;
};

class Executor final : public EventHandler {
 public:
  Executor(const Scenario& scenario, Engine& engine, Cluster& cluster, Metrics& metrics,
           ActionLog& actions);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void SetListener(ExecutorListener* listener) { listener_ = listener; }
  // Re-checks every cluster invariant after each slice change (tests; costs O(slices)).
  void SetParanoid(bool paranoid) { paranoid_ = paranoid; }
  // Runs every batch's GPU stage on `gpu` instead of timing it with the PerfModel (and its
  // token scheduler, interference and noise, which the real GPU then provides); `real_time`
  // carries the completions to the engine. REQUIRES: called before any instance starts;
  // both outlive the executor's run.
  void SetExternalGpu(ExternalGpu* gpu, RealTime* real_time) {
    external_ = gpu;
    real_time_ = real_time;
  }

  // --- Instances ---
  // Allocates a slice and starts an instance of `request.model` on it; it becomes ready
  // after container start + model load time, or at once if `warm`. Returns the instance id,
  // or -1 with *why set if the cluster refused the slice. `max_batch` > 0 overrides the
  // model's largest batch for this instance (a platform's batching setting).
  int StartInstance(const SliceRequest& request, bool warm, std::string* why, int max_batch = 0);
  // Changes an instance's time quota in place, no restart (vertical scaling): batches that
  // start from now on run under the new quota. False (and *why) if the partition's quotas
  // would pass 1.
  bool SetQuota(int instance, double quota, std::string* why);
  // Changes the largest batch the instance forms, from its next batch on (a scheduler
  // re-deriving batch sizes). REQUIRES: max_batch >= 1; the instance is not Gone.
  void SetMaxBatch(int instance, int max_batch);
  // Stops routing to the instance; it finishes its queue, then is Gone. REQUIRES: accepting.
  void Drain(int instance);

  const Instance& instance(int id) const { return instances_[static_cast<size_t>(id)]; }
  // Live (not Gone) instances of a model, in creation order.
  const std::vector<int>& instances_of(int model) const { return live_[static_cast<size_t>(model)]; }

  // --- Requests ---
  // Counts a new request as in flight. REQUIRES: called once per request, before the
  // policy routes, buffers or drops it.
  void Admit(const Request& r);
  // REQUIRES: instance(id).accepting(); r.model == instance(id).model.
  void Route(const Request& r, int instance);
  // Holds the request in its model's buffer.
  void Buffer(const Request& r);
  // Takes the oldest buffered request of `model`; false if none.
  bool PopBuffered(int model, Request* out);
  size_t buffered(int model) const { return buffers_[static_cast<size_t>(model)].items.size(); }
  void Drop(const Request& r, DropReason reason);

  // Requests of a model in the system (buffered, queued and executing), and the integral
  // of that count over time in request-seconds.
  int inflight(int model) const { return inflight_[static_cast<size_t>(model)]; }
  double inflight_integral(int model, SimTime now) const {
    return metrics_.in_system(model).ValueAt(now);
  }
  int total_inflight() const { return total_inflight_; }
  // Requests of a model admitted so far.
  uint64_t arrived(int model) const { return arrived_[static_cast<size_t>(model)]; }

  // Once set, the engine stops as soon as no request is in flight.
  void SetArrivalsDone();

  void OnEvent(SimTime now, uint64_t tag) override;

  // The token-window usage records kept for a slice: at most the token periods that ended
  // within the last window, plus those not yet pruned since its last period.
  size_t usage_records(int slice) const {
    return static_cast<size_t>(slice) < usage_.size() ? usage_[static_cast<size_t>(slice)].records() : 0;
  }

  const Scenario& scenario() const { return scenario_; }
  const PerfModel& perf_model() const { return perf_; }
  const std::vector<Instance>& all_instances() const { return instances_; }

 private:
  enum Kind : uint64_t {
    kReady = 1, kRunStep = 2, kInstanceTimeout = 3, kBufferTimeout = 4, kBatchTimer = 5, kPartitionWake = 6,
    kCpuDone = 7, kSlotsFreed = 8, kExternalDone = 9
  };
  // The token scheduler of one SM partition.
  struct PartitionRun {
    int key = 0;                 // index in partition_runs_
    int holder = -1;             // instance holding the token, or -1
    SimTime period_start = 0;    // when the holder's token was granted
    SimTime token_end = kForever;
    std::vector<int> waiting;    // instances with a batch, waiting for the token
    uint32_t wake_generation = 0;
    SimTime wake_at = kForever;
  };
  static uint64_t Tag(Kind kind, uint64_t target, uint32_t generation) {
    return (static_cast<uint64_t>(kind) << 60) | (target << 32) | generation;
  }

  void TryStartBatch(Instance& inst);
  // Its partition's token scheduler, created on first use and remembered in the instance.
  PartitionRun& PartitionOf(Instance& inst);
  // Grants the partition's token to the waiting slice the scheduler's rules pick, or arms
  // a wake-up for when the first becomes runnable.
  void Dispatch(PartitionRun& p);
  // Ends the holder's token period at now, charging it, and dispatches the next.
  void EndPeriod(PartitionRun& p);
  void StartRunning(Instance& inst);
  void StopRunning(Instance& inst);
  // Brings every running batch on the GPU up to now, recomputes their interference
  // slowdowns and re-arms their next step.
  void UpdateRates(int gpu);
  // Brings a running batch's work up to now. A token that ran out on the way ends there: the
  // batch overruns on its queued work from the token's end, with no event at that instant.
  // REQUIRES: inst is running, or has just stopped at now.
  void Advance(Instance& inst, SimTime now);
  // Arms the batch's next step: when it finishes, or synchronises after its token ran out
  // (the token's end itself takes no step). REQUIRES: Advance(inst, now) just ran.
  void ScheduleStep(Instance& inst, SimTime now);
  void OnRunStep(Instance& inst, SimTime now);
  // gpu-lets' slowdown of `inst` from the batches now running in its GPU's other partitions,
  // from the loads StartRunning noted. REQUIRES: inst is running.
  double Slowdown(const Instance& inst) const;
  void FinishBatch(Instance& inst);
  // Starts pre- or post-processing of `task` on the pod's shared CPU; without `reschedule`
  // the caller re-arms the pod's CPU event (ScheduleCpu) once it has added all its tasks.
  void StartCpuTask(Instance& inst, PodTask task, bool reschedule = true);
  // Brings the pod's CPU tasks up to now, and re-arms the event of the next to finish.
  void AdvanceCpu(Instance& inst, SimTime now);
  void ScheduleCpu(Instance& inst, SimTime now);
  // Ends the CPU tasks done by now: pre-processed requests join the GPU queue,
  // post-processed ones complete.
  void OnCpuDone(Instance& inst, SimTime now);
  // Requests timed out at the instance: tells the listener at once, after the current event
  // (so that its routing never re-enters a batch start).
  void NoteSlotsFreed(Instance& inst);
  // Drops a timed-out request waiting at an instance, and tells the policy its slot is free.
  void DropAtInstance(const Request& r, Instance& inst);
  // A request leaves its pod: completed at `left_pod_at`.
  void Complete(const Request& r, SimTime batch_started_at, SimTime left_pod_at, int instance, int batch);
  void MaybeRetire(Instance& inst);
  void Enqueue(RequestQueue& q, const Request& r, Kind timer_kind, uint64_t target);
  void ArmTimeout(RequestQueue& q, Kind timer_kind, uint64_t target, SimTime timeout);
  void ExpireQueue(RequestQueue& q, SimTime now, SimTime timeout, Kind timer_kind, uint64_t target);
  void EndRequest(int model);
  void Log(const char* kind, const Instance& inst, std::string detail = "");

  const Scenario& scenario_;
  Engine& engine_;
  Cluster& cluster_;
  Metrics& metrics_;
  ActionLog& actions_;
  PerfModel perf_;
  ExecutorListener* listener_ = nullptr;
  ExternalGpu* external_ = nullptr;
  RealTime* real_time_ = nullptr;
  std::vector<RngStream> noise_rng_;  // one stream per GPU
  SimTime window_;
  RequestBlockPool request_blocks_;  // every queue's storage (instances_, buffers_)
  std::vector<Instance> instances_;
  std::vector<TokenWindow> usage_;             // slice id -> its usage records
  std::deque<PartitionRun> partition_runs_;  // stable references
  std::vector<std::vector<int>> partition_key_;  // [gpu][partition] -> partition_runs_ index
  std::vector<std::vector<int>> running_on_gpu_;
  std::vector<std::vector<int>> live_;
  std::vector<RequestQueue> buffers_;
  std::vector<int> inflight_;
  std::vector<uint64_t> arrived_;
  // What the request path reads of each model, packed: a ModelSpec is 408 bytes with its
  // per-batch tables elsewhere on the heap, and at thousands of models each read of it was a
  // cache miss or two (issue 15).
  struct ModelHot {
    double preprocess_ms = 0;
    double postprocess_ms = 0;
    double pod_cpu_cores = 0;
    double noise_cv = 0;
    SimTime queue_timeout = 0;
    SimTime batch_timeout = 0;
    uint32_t l2_offset = 0, l2_count = 0;      // its L2Util table in util_by_batch_
    uint32_t dram_offset = 0, dram_count = 0;  // its DramUtil table in util_by_batch_
  };
  // ModelSpec::L2Util / DramUtil from the packed tables.
  double UtilAt(uint32_t offset, uint32_t count, int batch) const {
    return ModelSpec::UtilByBatch(util_by_batch_.data() + offset, count, batch);
  }
  std::vector<ModelHot> model_hot_;
  std::vector<double> util_by_batch_;
  int total_inflight_ = 0;
  int total_live_ = 0;
  bool arrivals_done_ = false;
  bool paranoid_ = false;
  // OnCpuDone's working lists (it never re-enters itself).
  std::vector<PodTask> cpu_dropped_scratch_, cpu_done_scratch_;
  void CheckCluster() const;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_EXECUTOR_H_
