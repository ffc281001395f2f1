// LeastLoadedRouter: the request routing most serving platforms share (Knative's activator
// and queue-proxy, KServe, FaST-GShare's gateway): a request goes to the ready instance of
// its model with the fewest requests in flight, never past a per-instance concurrency
// limit; what no instance can take waits, in order, in the model's buffer and is dispatched
// as instances free up. Policies own one and call it from their callbacks.
#ifndef GPUSLICE_SIM_POLICIES_ROUTING_H_
#define GPUSLICE_SIM_POLICIES_ROUTING_H_

#include "sim/executor.h"

namespace gpuslice {

class LeastLoadedRouter {
 public:
  // `container_concurrency`: most requests in flight per instance; 0 = no limit.
  // `buffer_limit`: most requests buffered per model before no_capacity drops; 0 = none.
  LeastLoadedRouter(int container_concurrency, int buffer_limit)
      : concurrency_(container_concurrency), buffer_limit_(buffer_limit) {}

  // The ready instance with the fewest in flight that can take one more; -1 if none.
  int Pick(const Executor& ex, int model) const;
  // Routes, buffers (FIFO: behind older buffered requests) or drops a new request. Returns
  // true if it was buffered.
  bool Route(Executor& ex, const Request& r) const;
  // Moves buffered requests of `model` to instances while any can take one.
  void Dispatch(Executor& ex, int model) const;

 private:
  int concurrency_;
  int buffer_limit_;
};

// Drains `count` of the model's accepting instances: loading ones first (newest first),
// then the ready ones with the fewest requests in flight. The common scale-down choice.
void DrainLeastBusy(Executor& ex, int model, int count);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_ROUTING_H_
