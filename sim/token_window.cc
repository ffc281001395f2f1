#include "sim/token_window.h"

#include <algorithm>

namespace gpuslice {

void TokenWindow::Charge(SimTime start, SimTime end) {
  if (end <= start) return;
  if (records() > 0 && last().end == start) {
    last().end = end;  // back-to-back periods are one record
    return;
  }
  if (!spilled()) {
    if (count_ < kInline) {
      inline_[count_++] = {start, end};
      return;
    }
    spill_.assign(inline_, inline_ + count_);
    first_ = 0;
    count_ = 0;
  }
  spill_.push_back({start, end});
}

SimTime TokenWindow::UsageIn(SimTime now, SimTime window) const {
  const SimTime from = now - window;
  const Record* r = live();
  SimTime used = 0;
  for (size_t i = records(); i > 0 && r[i - 1].end > from; --i) {
    used += r[i - 1].end - std::max(r[i - 1].start, from);
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
  const Record* r = live();
  for (size_t i = 0, n = records(); i < n; ++i) {
    if (r[i].end <= from) continue;
    const SimTime edge = std::max(r[i].start, from);
    const SimTime available = r[i].end - edge;
    if (available >= excess) return edge + excess + window;
    excess -= available;
  }
  return now + window;  // unreachable: the records hold `used` >= excess
}

void TokenWindow::Prune(SimTime now, SimTime window) {
  const SimTime from = now - window;
  if (!spilled()) {
    uint32_t dead = 0;
    while (dead < count_ && inline_[dead].end <= from) ++dead;
    if (dead == 0) return;
    for (uint32_t i = dead; i < count_; ++i) inline_[i - dead] = inline_[i];
    count_ -= dead;
    return;
  }
  while (first_ < spill_.size() && spill_[first_].end <= from) ++first_;
  const size_t left = spill_.size() - first_;
  if (left <= kInline) {
    std::copy(spill_.begin() + first_, spill_.end(), inline_);
    count_ = static_cast<uint32_t>(left);
    spill_.clear();  // keeps its capacity for the next spill
    first_ = 0;
  } else if (first_ >= 8 && first_ * size_t{2} >= spill_.size()) {
    spill_.erase(spill_.begin(), spill_.begin() + first_);
    first_ = 0;
  }
}

}  // namespace gpuslice
