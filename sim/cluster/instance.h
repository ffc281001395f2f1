// Requests and the instances that serve them.
//
// An instance is one copy of a model on one slice. It is born Loading (container start plus
// model load), serves while Ready, stops taking new requests when Draining and is Gone once
// its queue is empty and its last batch is done, when its slice is freed.
#ifndef GPUSLICE_SIM_CLUSTER_INSTANCE_H_
#define GPUSLICE_SIM_CLUSTER_INSTANCE_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "gpu/interference.h"
#include "sim/engine/time.h"

namespace gpuslice {

struct Request {
  uint64_t id;
  SimTime arrival;
  SimTime enqueued;  // when it joined its current queue
  int32_t function;
  int32_t model;
  int32_t input_tokens;   // -1 when the workload has none
  int32_t output_tokens;  // -1 when the workload has none
};

enum class DropReason : uint8_t { kQueueTimeout = 1, kNoCapacity = 2, kAdmission = 3 };
inline constexpr int kDropReasonCount = 3;
const char* DropReasonName(DropReason reason);

// A FIFO of requests in one vector: taken from the front by an index, which is compacted
// away once the taken prefix is as long as what is left (amortised O(1) per request). Unlike
// a std::deque it holds no memory while empty after Release, so the queues of instances that
// are gone cost nothing.
class RequestFifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  // REQUIRES: !empty().
  const Request& front() const { return items_[head_]; }
  // The waiting requests, oldest first.
  const Request* begin() const { return items_.data() + head_; }
  const Request* end() const { return items_.data() + items_.size(); }
  void push_back(const Request& r) { items_.push_back(r); }
  // Removes the n oldest. REQUIRES: n <= size().
  void pop_front(size_t n = 1) {
    head_ += n;
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= 16 && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Frees the storage. REQUIRES: empty().
  void Release() { std::vector<Request>().swap(items_); }

 private:
  std::vector<Request> items_;  // the queue is [head_, size)
  size_t head_ = 0;
};

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

struct Instance {
  int id = 0;
  int model = 0;
  int slice = 0;
  int gpu = 0;
  InstanceState state = InstanceState::kLoading;
  SimTime created_at = 0;
  SimTime ready_at = 0;
  int max_batch = 1;  // the model's, unless the policy set another
  RequestQueue queue;
  std::vector<Request> batch;  // the batch now executing; empty when idle
  SimTime batch_started_at = 0;
  uint32_t batch_timer_generation = 0;
  SimTime batch_timer_at = kForever;
  // The batch's progress under its partition's token scheduler (sim/executor.cc).
  double work_left_ms = 0;       // GPU work still to do, at full speed
  double launch_ahead_ms = 0;    // work queued on the GPU when a token runs out
  bool overrunning = false;      // its token ran out; the work already queued still runs
  double overrun_left_ms = 0;    // of that queued work, what is left
  double rate = 1;               // work done per unit of time: 1 / interference slowdown
  SimTime progressed_at = 0;
  bool running = false;          // holds its partition's token and executes
  uint32_t run_generation = 0;
  SimTime step_at = kForever;    // when its pending step event is due; kForever: none pending
  int partition_run = -1;        // its partition's token scheduler; -1 until first looked up
  SliceLoad load;                // while running: its batch's load, for the interference model

  // The pod's CPU stage (sim/executor.cc): requests here hold a slot of the pod, not the GPU.
  std::vector<PodTask> on_cpu;      // pre- or post-processing, sharing the pod's CPU
  SimTime cpu_progressed_at = 0;
  uint32_t cpu_generation = 0;
  SimTime cpu_event_at = kForever;  // when its pending CPU event is due; kForever: none pending
  bool slots_notice_armed = false;  // a same-time event will tell the policy slots freed

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
