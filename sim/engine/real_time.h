// RealTime: ties the engine's clock to wall time and carries events from other threads.
//
// With a RealTime attached (Engine::SetRealTime), the engine runs an event only when the
// wall clock reaches its time: simulated time t is wall time start + t x time_scale (1 = real
// time; 0.1 runs ten times faster, for a simulated device). Other threads (a GPU worker)
// Post() events; each is run at the simulated time of the wall clock when the engine takes it
// (never before the clock), in the order posted. Expect() announces an event still to be
// posted, so that the engine waits for it rather than end with an empty queue.
//
// Post and Expect are thread-safe; the rest is called by the engine's thread. Results of a
// real-time run depend on the wall clock: they are not reproducible byte for byte.
#ifndef GPUSLICE_SIM_ENGINE_REAL_TIME_H_
#define GPUSLICE_SIM_ENGINE_REAL_TIME_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "sim/engine/engine.h"
#include "sim/engine/time.h"

namespace gpuslice {

class RealTime {
 public:
  // REQUIRES: time_scale > 0. The clock starts at simulated time 0 now.
  explicit RealTime(double time_scale = 1.0);

  double time_scale() const { return time_scale_; }
  // Simulated time 0 is now. REQUIRES: no event taken yet.
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  // The simulated time the wall clock stands at.
  SimTime Now() const;

  // One more event will be posted. Thread-safe.
  void Expect();
  // Posts an expected event for `handler`. REQUIRES: Expect() was called for it. Thread-safe.
  void Post(EventHandler* handler, uint64_t tag);

  // Engine side: waits until the wall clock reaches `until` (kForever: no limit) or an event
  // is posted, and returns the posted events (with the simulated time to run them at, never
  // before `not_before`) through `deliver`. Returns at once if `until` has passed.
  template <typename Deliver>
  void WaitUntil(SimTime until, SimTime not_before, Deliver deliver);
  // Events expected and not yet taken by WaitUntil.
  int outstanding() const;

 private:
  struct Posted {
    EventHandler* handler;
    uint64_t tag;
  };
  std::chrono::steady_clock::time_point WallAt(SimTime t) const;

  const double time_scale_;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  std::condition_variable posted_cv_;
  std::deque<Posted> posted_;
  int outstanding_ = 0;
};

template <typename Deliver>
void RealTime::WaitUntil(SimTime until, SimTime not_before, Deliver deliver) {
  std::deque<Posted> taken;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto ready = [&] { return !posted_.empty(); };
    if (until == kForever) {
      if (outstanding_ > 0) posted_cv_.wait(lock, ready);
    } else {
      posted_cv_.wait_until(lock, WallAt(until), ready);
    }
    taken.swap(posted_);
    outstanding_ -= static_cast<int>(taken.size());
  }
  const SimTime now = std::max(Now(), not_before);
  for (const Posted& p : taken) deliver(now, p.handler, p.tag);
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_REAL_TIME_H_
