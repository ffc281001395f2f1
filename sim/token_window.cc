#include "sim/token_window.h"

#include <algorithm>

namespace gpuslice {

void TokenWindow::Charge(SimTime start, SimTime end) {
  if (end <= start) return;
  if (records_.size() > first_ && records_.back().end == start) {
    records_.back().end = end;  // back-to-back periods are one record
    return;
  }
  records_.push_back({start, end});
}

SimTime TokenWindow::UsageIn(SimTime now, SimTime window) const {
  const SimTime from = now - window;
  SimTime used = 0;
  for (size_t i = records_.size(); i > first_ && records_[i - 1].end > from; --i) {
    used += records_[i - 1].end - std::max(records_[i - 1].start, from);
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
  for (size_t i = first_; i < records_.size(); ++i) {
    const Record& r = records_[i];
    if (r.end <= from) continue;
    const SimTime edge = std::max(r.start, from);
    const SimTime available = r.end - edge;
    if (available >= excess) return edge + excess + window;
    excess -= available;
  }
  return now + window;  // unreachable: the records hold `used` >= excess
}

void TokenWindow::Prune(SimTime now, SimTime window) {
  while (first_ < records_.size() && records_[first_].end <= now - window) ++first_;
  if (first_ == records_.size()) {
    records_.clear();
    first_ = 0;
  } else if (first_ >= 8 && first_ * 2 >= records_.size()) {
    records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

}  // namespace gpuslice
