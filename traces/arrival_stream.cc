#include "traces/arrival_stream.h"

#include <algorithm>

namespace gpuslice {
namespace {

bool Before(SimTime ta, size_t sa, SimTime tb, size_t sb) { return ta < tb || (ta == tb && sa < sb); }

}  // namespace

MergedStream::MergedStream(std::vector<std::unique_ptr<ArrivalStream>> sources)
    : sources_(std::move(sources)) {}

void MergedStream::SiftDown(size_t i) {
  const size_t n = heap_.size();
  for (;;) {
    size_t best = i, l = 2 * i + 1, r = l + 1;
    if (l < n && Before(heap_[l].arrival.time, heap_[l].source, heap_[best].arrival.time, heap_[best].source)) best = l;
    if (r < n && Before(heap_[r].arrival.time, heap_[r].source, heap_[best].arrival.time, heap_[best].source)) best = r;
    if (best == i) return;
    std::swap(heap_[i], heap_[best]);
    i = best;
  }
}

bool MergedStream::Next(Arrival* out) {
  if (!primed_) {
    primed_ = true;
    for (size_t s = 0; s < sources_.size(); ++s) {
      Arrival a;
      if (sources_[s]->Next(&a)) heap_.push_back({a, s});
    }
    for (size_t i = heap_.size(); i-- > 0;) SiftDown(i);
  }
  if (heap_.empty()) return false;
  *out = heap_[0].arrival;
  Arrival next;
  if (sources_[heap_[0].source]->Next(&next)) {
    heap_[0].arrival = next;
  } else {
    heap_[0] = heap_.back();
    heap_.pop_back();
  }
  if (!heap_.empty()) SiftDown(0);
  return true;
}

}  // namespace gpuslice
