#include "sim/token_window.h"

#include <algorithm>

namespace gpuslice {

void TokenWindow::Charge(SimTime start, SimTime end) {
  if (end <= start) return;
  if (!records_.empty() && records_.back().end == start) {
    records_.back().end = end;  // back-to-back periods are one record
    return;
  }
  records_.push_back({start, end});
}

SimTime TokenWindow::UsageIn(SimTime now, SimTime window) const {
  const SimTime from = now - window;
  SimTime used = 0;
  for (auto it = records_.rbegin(); it != records_.rend() && it->end > from; ++it) {
    used += it->end - std::max(it->start, from);
  }
  return used;
}

bool TokenWindow::MayRun(SimTime now, SimTime window, double quota) const {
  return UsageIn(now, window) < QuotaBudget(quota, window);
}

SimTime TokenWindow::RunnableAt(SimTime now, SimTime window, double quota) const {
  const SimTime budget = QuotaBudget(quota, window);
  const SimTime used = UsageIn(now, window);
  if (used < budget) return now;
  // Usage falls by 1 ns per ns while the window's trailing edge crosses a record; it must
  // shed (used - budget + 1) ns.
  SimTime excess = used - budget + 1;
  const SimTime from = now - window;
  for (const Record& r : records_) {
    if (r.end <= from) continue;
    const SimTime edge = std::max(r.start, from);
    const SimTime available = r.end - edge;
    if (available >= excess) return edge + excess + window;
    excess -= available;
  }
  return now + window;  // unreachable: the records hold `used` >= excess
}

void TokenWindow::Prune(SimTime now, SimTime window) {
  while (!records_.empty() && records_.front().end <= now - window) records_.pop_front();
}

}  // namespace gpuslice
