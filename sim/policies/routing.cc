#include "sim/policies/routing.h"

namespace gpuslice {

int LeastLoadedRouter::Pick(const Executor& ex, int model) const {
  int best = -1;
  int best_load = 0;
  for (int id : ex.instances_of(model)) {
    const Instance& inst = ex.instance(id);
    if (inst.state != InstanceState::kReady) continue;
    const int load = inst.inflight();
    if (concurrency_ > 0 && load >= concurrency_) continue;
    if (best < 0 || load < best_load) {
      best = id;
      best_load = load;
    }
  }
  return best;
}

bool LeastLoadedRouter::Route(Executor& ex, const Request& r) const {
  if (ex.buffered(r.model) == 0) {
    const int id = Pick(ex, r.model);
    if (id >= 0) {
      ex.Route(r, id);
      return false;
    }
  }
  if (buffer_limit_ > 0 && ex.buffered(r.model) >= static_cast<size_t>(buffer_limit_)) {
    ex.Drop(r, DropReason::kNoCapacity);
    return false;
  }
  ex.Buffer(r);
  return true;
}

void LeastLoadedRouter::Dispatch(Executor& ex, int model) const {
  while (ex.buffered(model) > 0) {
    const int id = Pick(ex, model);
    if (id < 0) return;
    Request r;
    ex.PopBuffered(model, &r);
    ex.Route(r, id);
  }
}

}  // namespace gpuslice
