#include "sim/policies/routing.h"

#include <algorithm>
#include <vector>

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

void DrainLeastBusy(Executor& ex, int model, int count) {
  std::vector<int> victims;
  for (int id : ex.instances_of(model)) {
    if (ex.instance(id).accepting()) victims.push_back(id);
  }
  std::sort(victims.begin(), victims.end(), [&](int a, int b) {
    const Instance& x = ex.instance(a);
    const Instance& y = ex.instance(b);
    const bool xl = x.state == InstanceState::kLoading, yl = y.state == InstanceState::kLoading;
    if (xl != yl) return xl;
    if (x.inflight() != y.inflight()) return x.inflight() < y.inflight();
    return a > b;
  });
  for (int i = 0; i < count && i < static_cast<int>(victims.size()); ++i) ex.Drain(victims[static_cast<size_t>(i)]);
}

}  // namespace gpuslice
