#include "sim/engine/real_time.h"

#include <cassert>
#include <cmath>

namespace gpuslice {

RealTime::RealTime(double time_scale) : time_scale_(time_scale), start_(std::chrono::steady_clock::now()) {
  assert(time_scale > 0);
}

SimTime RealTime::Now() const {
  const double wall_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_).count();
  return static_cast<SimTime>(wall_ns / time_scale_);
}

std::chrono::steady_clock::time_point RealTime::WallAt(SimTime t) const {
  return start_ + std::chrono::nanoseconds(static_cast<int64_t>(std::llround(static_cast<double>(t) * time_scale_)));
}

void RealTime::Expect() {
  std::lock_guard<std::mutex> lock(mu_);
  ++outstanding_;
}

void RealTime::Post(EventHandler* handler, uint64_t tag) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back({handler, tag});
  }
  posted_cv_.notify_one();
}

int RealTime::outstanding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outstanding_;
}

}  // namespace gpuslice
