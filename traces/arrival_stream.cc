#include "traces/arrival_stream.h"

#include <utility>

namespace gpuslice {

MergedStream::MergedStream(std::vector<std::unique_ptr<ArrivalStream>> sources)
    : sources_(std::move(sources)) {}

MergedStream::Key MergedStream::Pull(size_t s) {
  if (sources_[s]->Next(&heads_[s])) return {heads_[s].time, s};
  return {kForever, sources_.size() + s};
}

void MergedStream::Prime() {
  primed_ = true;
  const size_t n = sources_.size();
  while (leaves_ < n) leaves_ *= 2;
  heads_.resize(n);
  // Plays the tournament bottom-up: winners[i] is the winner below node i, losers_[i] the
  // key it beat there. Empty slots past the last source rank after every source.
  std::vector<Key> winners(2 * leaves_);
  for (size_t j = 0; j < leaves_; ++j) winners[leaves_ + j] = j < n ? Pull(j) : Key{kForever, n + j};
  losers_.assign(leaves_, Key{});
  for (size_t i = leaves_; i-- > 1;) {
    const Key& a = winners[2 * i];
    const Key& b = winners[2 * i + 1];
    const bool a_wins = Before(a, b);
    winners[i] = a_wins ? a : b;
    losers_[i] = a_wins ? b : a;
  }
  winner_ = winners[1];
}

bool MergedStream::Next(Arrival* out) {
  if (!primed_) Prime();
  const size_t n = sources_.size();
  if (winner_.rank >= n) return false;
  const size_t s = winner_.rank;
  *out = heads_[s];
  // Replays the winner's path with its source's next key: at each node the smaller key
  // goes on up and the larger stays as that node's loser.
  Key key = Pull(s);
  for (size_t i = (leaves_ + s) / 2; i >= 1; i /= 2) {
    if (Before(losers_[i], key)) std::swap(losers_[i], key);
  }
  winner_ = key;
  return true;
}

}  // namespace gpuslice
