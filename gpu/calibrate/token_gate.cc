#include "gpu/calibrate/token_gate.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace gpuslice {

TokenGate::TokenGate(double quota, int64_t window_ns)
    : quota_(quota), window_ns_(window_ns), budget_ns_(static_cast<int64_t>(std::llround(quota * window_ns))) {
  assert(quota > 0 && quota <= 1 && window_ns > 0);
}

int64_t TokenGate::UsageAt(int64_t t_ns) const {
  const int64_t from = t_ns - window_ns_;
  int64_t used = 0;
  for (const Interval& i : charges_) {
    const int64_t lo = std::max(i.start, from), hi = std::min(i.end, t_ns);
    if (hi > lo) used += hi - lo;
  }
  return used;
}

int64_t TokenGate::NextAdmission(int64_t now_ns) const {
  // "A pod may get a token while its usage inside [now - W, now] is below quota x W."
  auto admits = [&](int64_t t) { return UsageAt(t) < budget_ns_; };
  if (admits(now_ns)) return now_ns;
  // Past the last charge the usage only falls, so the first admitting time is found by
  // bisection between a time that does not admit (lo) and end + W, when the window is empty.
  int64_t lo = std::max(now_ns, charges_.empty() ? now_ns : charges_.back().end);
  if (admits(lo)) return lo;
  int64_t hi = charges_.back().end + window_ns_;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (admits(mid) ? hi : lo) = mid;
  }
  return hi;
}

void TokenGate::Charge(int64_t start_ns, int64_t end_ns) {
  assert(end_ns >= start_ns);
  assert(charges_.empty() || start_ns >= charges_.back().end);
  Forget(start_ns - window_ns_);
  if (end_ns > start_ns) charges_.push_back({start_ns, end_ns});
}

void TokenGate::Forget(int64_t before_ns) {
  while (!charges_.empty() && charges_.front().end <= before_ns) charges_.pop_front();
}

GatedRunStats GatedRun(TokenGate& gate, GatedStream& stream, const std::vector<int64_t>& expected_ns) {
  GatedRunStats stats;
  const int n = static_cast<int>(expected_ns.size());
  stats.start_ns = stream.NowNs();
  if (gate.quota() >= 1) {
    stream.LaunchRange(0, n);
    stats.end_ns = stream.Synchronize();
    stats.segments = 1;
    return stats;
  }
  int i = 0;
  while (i < n) {
    const int64_t now = stream.NowNs();
    const int64_t admit = gate.NextAdmission(now);
    if (admit > now) stream.SleepUntil(admit);
    const int64_t segment_start = stream.NowNs();
    // Every operation that starts while the expected work queued before it leaves budget.
    const int64_t room = gate.budget_ns() - gate.UsageAt(segment_start);
    int64_t queued = 0;
    int end = i;
    do {
      queued += expected_ns[static_cast<size_t>(end)];
      ++end;
    } while (end < n && queued < room);
    stream.LaunchRange(i, end);
    i = end;
    const int64_t segment_end = stream.Synchronize();
    gate.Charge(segment_start, segment_end);
    ++stats.segments;
  }
  stats.end_ns = stream.NowNs();
  return stats;
}

}  // namespace gpuslice
