// ArrivalWindow against its definition: the arrivals since the last sample at or before
// now − window (or since time 0), on hand-worked ticks and on a long random run checked
// against that definition over every sample kept in full.
#include "sim/policies/arrival_window.h"

#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

TEST(ArrivalWindow, CountsSinceTheLastSampleAtOrBeforeTheWindowStart) {
  ArrivalWindow w(SecondsToSim(10));
  SimTime span = 0;
  // t = 5 s, 7 arrivals so far: nothing is 10 s old yet, so the count runs from time 0.
  EXPECT_EQ(w.Record(SecondsToSim(5), 7, &span), 7u);
  EXPECT_EQ(span, SecondsToSim(5));
  // t = 10 s, 12: the sample at 0 is at the window start (10 − 10): 12 − 0.
  EXPECT_EQ(w.Record(SecondsToSim(10), 12, &span), 12u);
  EXPECT_EQ(span, SecondsToSim(10));
  // t = 15 s, 20: the last sample at or before 5 s is (5 s, 7): 20 − 7 over 10 s.
  EXPECT_EQ(w.Record(SecondsToSim(15), 20, &span), 13u);
  EXPECT_EQ(span, SecondsToSim(10));
  // t = 40 s, 21: every earlier sample is older than 30 s; the last of them, (15 s, 20),
  // starts the count: 1 arrival over 25 s.
  EXPECT_EQ(w.Record(SecondsToSim(40), 21, &span), 1u);
  EXPECT_EQ(span, SecondsToSim(25));
  EXPECT_EQ(w.samples(), 2u);
}

TEST(ArrivalWindow, MatchesTheDefinitionOverManyTicksAndCopies) {
  std::mt19937_64 rng(7);
  const SimTime window = MillisToSim(2500);
  ArrivalWindow w(window);
  std::vector<std::pair<SimTime, uint64_t>> all{{0, 0}};  // every sample, from time 0
  SimTime now = 0;
  uint64_t cumulative = 0;
  for (int tick = 0; tick < 20000; ++tick) {
    // Irregular ticks (0-1 s, some at the same instant) so the window holds 0 to dozens.
    now += static_cast<SimTime>(rng() % 1000) * MillisToSim(tick % 97 == 0 ? 50 : 1);
    cumulative += rng() % 5;
    all.push_back({now, cumulative});
    size_t start = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].first <= now - window) start = i;
    }
    SimTime span = -1;
    ASSERT_EQ(w.Record(now, cumulative, &span), cumulative - all[start].second) << "tick " << tick;
    ASSERT_EQ(span, now - all[start].first) << "tick " << tick;
    if (all.size() > 4096) all.erase(all.begin(), all.end() - 2048);  // keeps far more than a window
    if (tick == 10000) {
      ArrivalWindow copy = w;  // policies hold copies made by vector::assign
      EXPECT_EQ(copy.samples(), w.samples());
      EXPECT_EQ(copy.Record(now, cumulative), w.Record(now, cumulative));
      all.push_back({now, cumulative});
    }
  }
}

}  // namespace
}  // namespace gpuslice
