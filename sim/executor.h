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
//  - a batch's time is PerfModel's latency × noise; each request's latency adds the model's
//    fixed overhead (pre-processing, network) after the GPU work, outside the instance;
//  - instances pass Loading -> Ready -> Draining -> Gone; a slice is freed only when its
//    instance is Gone, and slices are allocated through the Cluster, which enforces the
//    invariants.
//
// The model's buffer stands for Knative's activator: requests that no instance can take yet.
#ifndef GPUSLICE_SIM_EXECUTOR_H_
#define GPUSLICE_SIM_EXECUTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "gpu/perf_model.h"
#include "sim/actions.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/instance.h"
#include "sim/engine/engine.h"
#include "sim/engine/rng.h"
#include "sim/metrics.h"
#include "sim/scenario.h"

namespace gpuslice {

// What the executor tells its policy. All default to doing nothing.
class ExecutorListener {
 public:
  virtual void OnInstanceReady(int /*instance*/) {}
  virtual void OnBatchDone(int /*instance*/) {}
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
    return metrics_.model(model).in_system.ValueAt(now);
  }
  int total_inflight() const { return total_inflight_; }
  // Requests of a model admitted so far.
  uint64_t arrived(int model) const { return arrived_[static_cast<size_t>(model)]; }

  // Once set, the engine stops as soon as no request is in flight.
  void SetArrivalsDone();

  void OnEvent(SimTime now, uint64_t tag) override;

  const Scenario& scenario() const { return scenario_; }
  const PerfModel& perf_model() const { return perf_; }
  const std::vector<Instance>& all_instances() const { return instances_; }

 private:
  enum Kind : uint64_t { kReady = 1, kBatchDone = 2, kInstanceTimeout = 3, kBufferTimeout = 4, kBatchTimer = 5 };
  static uint64_t Tag(Kind kind, uint64_t target, uint32_t generation) {
    return (static_cast<uint64_t>(kind) << 60) | (target << 32) | generation;
  }

  void TryStartBatch(Instance& inst);
  // gpu-lets' interference factor for a batch of `inst` starting now: max(1, max over the
  // busy instances in the GPU's other partitions of alpha).
  double InterferenceFactor(const Instance& inst) const;
  void FinishBatch(Instance& inst);
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
  RngStream noise_rng_;
  std::vector<Instance> instances_;
  std::vector<int> instance_of_slice_;  // slice id -> instance id
  std::vector<std::vector<int>> live_;
  std::vector<RequestQueue> buffers_;
  std::vector<int> inflight_;
  std::vector<uint64_t> arrived_;
  std::vector<SimTime> queue_timeout_;
  std::vector<SimTime> batch_timeout_;
  int total_inflight_ = 0;
  int total_live_ = 0;
  bool arrivals_done_ = false;
  bool paranoid_ = false;
  void CheckCluster() const;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_EXECUTOR_H_
