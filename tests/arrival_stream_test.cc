// MergedStream against its definition: every arrival of every source, once, ordered by
// time and, at equal times, by the index of its source (a stable sort of the sources'
// arrivals taken in source order). Checked on hand-built cases (no source, one, empty
// sources, ties, a source count that is not a power of two) and on random merges.
#include "traces/arrival_stream.h"

#include <algorithm>
#include <memory>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

// Hands out a fixed list of arrivals, non-decreasing in time.
class ListStream final : public ArrivalStream {
 public:
  explicit ListStream(std::vector<Arrival> arrivals) : arrivals_(std::move(arrivals)) {}
  bool Next(Arrival* out) override {
    if (next_ == arrivals_.size()) return false;
    *out = arrivals_[next_++];
    return true;
  }

 private:
  std::vector<Arrival> arrivals_;
  size_t next_ = 0;
};

// `lists[s]` holds source s's arrival times; function = s, input_tokens = its position.
std::vector<std::unique_ptr<ArrivalStream>> Sources(const std::vector<std::vector<SimTime>>& lists) {
  std::vector<std::unique_ptr<ArrivalStream>> sources;
  for (size_t s = 0; s < lists.size(); ++s) {
    std::vector<Arrival> arrivals;
    for (size_t k = 0; k < lists[s].size(); ++k) {
      arrivals.push_back({lists[s][k], static_cast<int32_t>(s), static_cast<int32_t>(k)});
    }
    sources.push_back(std::make_unique<ListStream>(std::move(arrivals)));
  }
  return sources;
}

// (time, source, position) of each arrival the merge hands out, until it says done.
std::vector<std::tuple<SimTime, int, int>> Drain(const std::vector<std::vector<SimTime>>& lists) {
  MergedStream merged(Sources(lists));
  std::vector<std::tuple<SimTime, int, int>> got;
  Arrival a;
  while (merged.Next(&a)) got.emplace_back(a.time, a.function, a.input_tokens);
  EXPECT_FALSE(merged.Next(&a));  // stays exhausted
  return got;
}

// The definition: all arrivals, stably sorted by time from the concatenation in source order.
std::vector<std::tuple<SimTime, int, int>> Expected(const std::vector<std::vector<SimTime>>& lists) {
  std::vector<std::tuple<SimTime, int, int>> all;
  for (size_t s = 0; s < lists.size(); ++s) {
    for (size_t k = 0; k < lists[s].size(); ++k) all.emplace_back(lists[s][k], s, k);
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  return all;
}

TEST(MergedStream, NoSourceIsExhaustedAtOnce) { EXPECT_TRUE(Drain({}).empty()); }

TEST(MergedStream, HandWorkedTiesGoInSourceOrder) {
  // Sources 0..2 (three leaves in a tree of four): times 5 and 5 tie between sources 2 and
  // 0, so source 0's comes first; source 1 is empty.
  const auto got = Drain({{5, 9}, {}, {1, 5, 5}});
  const std::vector<std::tuple<SimTime, int, int>> want{{1, 2, 0}, {5, 0, 0}, {5, 2, 1}, {5, 2, 2}, {9, 0, 1}};
  EXPECT_EQ(got, want);
}

TEST(MergedStream, OneSourcePassesThrough) {
  EXPECT_EQ(Drain({{0, 0, 3, 8}}), Expected({{0, 0, 3, 8}}));
}

TEST(MergedStream, MatchesAStableSortOnRandomSources) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + rng() % 70;
    std::vector<std::vector<SimTime>> lists(n);
    for (auto& list : lists) {
      const size_t len = rng() % 12;  // often empty or short; times from a small range, so ties abound
      SimTime t = static_cast<SimTime>(rng() % 4);
      for (size_t k = 0; k < len; ++k) {
        list.push_back(t);
        t += static_cast<SimTime>(rng() % 3);
      }
    }
    ASSERT_EQ(Drain(lists), Expected(lists)) << "round " << round << ", " << n << " sources";
  }
}

}  // namespace
}  // namespace gpuslice
