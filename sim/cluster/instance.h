// Requests and the instances that serve them.
//
// An instance is one copy of a model on one slice. It is born Loading (container start plus
// model load), serves while Ready, stops taking new requests when Draining and is Gone once
// its queue is empty and its last batch is done, when its slice is freed.
#ifndef GPUSLICE_SIM_CLUSTER_INSTANCE_H_
#define GPUSLICE_SIM_CLUSTER_INSTANCE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gpu/interference.h"
#include "sim/cluster/request.h"
#include "sim/cluster/request_fifo.h"
#include "sim/engine/time.h"

namespace gpuslice {

enum class DropReason : uint8_t { kQueueTimeout = 1, kNoCapacity = 2, kAdmission = 3 };
inline constexpr int kDropReasonCount = 3;
const char* DropReasonName(DropReason reason);

// A FIFO of waiting requests with the bookkeeping of its queue-timeout timer.
struct RequestQueue {
  RequestFifo items;
  SimTime timer_at = kForever;  // when the armed timeout timer fires; kForever if none
  uint32_t timer_generation = 0;
};

// A request in its pod's CPU stage: pre-processing before the GPU queue, or
// post-processing after its batch.
struct PodTask {
  Request request;
  bool post = false;
  SimTime batch_started_at = 0;  // post only: its batch's start and size, for the metrics
  int batch = 0;
  double work_left_ms = 0;        // CPU time still to do, at one core's speed
};

enum class InstanceState : uint8_t { kLoading, kReady, kDraining, kGone };
const char* InstanceStateName(InstanceState state);

// Its first 64-byte cache line holds what a routing pick reads of every instance of a model
// (state and the sizes behind inflight()) and what a batch start reads first; at thousands of
// instances the rest is a cache miss away.
struct alignas(64) Instance {
  InstanceState state = InstanceState::kLoading;
  bool running = false;          // holds its partition's token and executes
  bool overrunning = false;      // its token ran out; the work already queued still runs
  bool slots_notice_armed = false;  // a same-time event will tell the policy slots freed
  int max_batch = 1;  // the model's, unless the policy set another
  std::vector<Request> batch;  // the batch now executing; empty when idle
  std::vector<PodTask> on_cpu;      // the pod's CPU stage: pre- or post-processing (below)
  RequestQueue queue;  // its items' size first, in this line
  int id = 0;
  int model = 0;
  int slice = 0;
  int gpu = 0;
  SimTime created_at = 0;
  SimTime ready_at = 0;
  SimTime batch_started_at = 0;
  uint32_t batch_timer_generation = 0;
  SimTime batch_timer_at = kForever;
  // The batch's progress under its partition's token scheduler (sim/executor.cc).
  double work_left_ms = 0;       // GPU work still to do, at full speed
  double launch_ahead_ms = 0;    // work queued on the GPU when a token runs out
  double overrun_left_ms = 0;    // of that queued work, what is left
  double rate = 1;               // work done per unit of time: 1 / interference slowdown
  SimTime progressed_at = 0;
  uint32_t run_generation = 0;
  SimTime step_at = kForever;    // when its pending step event is due; kForever: none pending
  int partition_run = -1;        // its partition's token scheduler; -1 until first looked up
  SliceLoad load;                // while running: its batch's load, for the interference model

  // The pod's CPU stage (sim/executor.cc), on_cpu above: requests there hold a slot of the
  // pod, not the GPU, and share the pod's CPU.
  SimTime cpu_progressed_at = 0;
  uint32_t cpu_generation = 0;
  SimTime cpu_event_at = kForever;  // when its pending CPU event is due; kForever: none pending

  bool busy() const { return !batch.empty(); }
  // Requests the pod holds: in its CPU stage, queued for the GPU or in its batch.
  int inflight() const {
    return static_cast<int>(queue.items.size() + batch.size() + on_cpu.size());
  }
  bool cpu_idle() const { return on_cpu.empty(); }
  bool accepting() const { return state == InstanceState::kReady || state == InstanceState::kLoading; }
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CLUSTER_INSTANCE_H_
