#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/engine.h"
#include "sim/engine/rng.h"

namespace gpuslice {
namespace {

class Recorder final : public EventHandler {
 public:
  explicit Recorder(Engine& e) : engine(e) {}
  void OnEvent(SimTime now, uint64_t tag) override {
    seen.push_back({now, tag});
    if (tag == 99) engine.Stop();
    if (tag == 7) engine.Schedule(now, this, 8);  // same instant, runs after everything queued
  }
  Engine& engine;
  std::vector<std::pair<SimTime, uint64_t>> seen;
};

TEST(Engine, RunsInTimeOrderAndTiesInScheduleOrder) {
  Engine e;
  Recorder r(e);
  e.Schedule(30, &r, 1);
  e.Schedule(10, &r, 2);
  e.Schedule(10, &r, 3);
  e.Schedule(20, &r, 4);
  e.Schedule(10, &r, 7);
  e.Schedule(10, &r, 5);
  e.Run();
  std::vector<std::pair<SimTime, uint64_t>> expected = {{10, 2}, {10, 3}, {10, 7}, {10, 5}, {10, 8}, {20, 4}, {30, 1}};
  EXPECT_EQ(r.seen, expected);
  EXPECT_EQ(e.events_run(), 7u);
}

TEST(Engine, StopsAtUntilAndOnRequest) {
  Engine e;
  Recorder r(e);
  e.Schedule(5, &r, 1);
  e.Schedule(50, &r, 2);
  e.Run(20);
  EXPECT_EQ(e.Now(), 20);
  EXPECT_EQ(r.seen.size(), 1u);
  e.Schedule(30, &r, 99);
  e.Run();
  EXPECT_EQ(e.Now(), 30);
  EXPECT_EQ(e.pending(), 1u);
}

TEST(Engine, RefusesEventsInThePast) {
  Engine e;
  Recorder r(e);
  e.Schedule(10, &r, 1);
  e.Run();
  EXPECT_THROW(e.Schedule(5, &r, 1), std::logic_error);
}

TEST(EventQueue, MatchesSortedOrderOnRandomInput) {
  EventQueue q;
  RngStream rng(3, "queue");
  std::vector<std::pair<SimTime, uint64_t>> expected;
  for (uint64_t i = 0; i < 20000; ++i) {
    SimTime t = static_cast<SimTime>(rng.Below(500));
    q.Push(t, nullptr, i);
    expected.push_back({t, i});
  }
  std::stable_sort(expected.begin(), expected.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (const auto& [t, tag] : expected) {
    Event ev = q.Pop();
    ASSERT_EQ(ev.time, t);
    ASSERT_EQ(ev.tag, tag);
  }
  EXPECT_TRUE(q.empty());
}

TEST(Rng, SameSeedAndNameGiveSameStream) {
  RngStream a(42, "arrivals/x"), b(42, "arrivals/x"), c(42, "arrivals/y"), d(43, "arrivals/x");
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t va = a.NextU64();
    EXPECT_EQ(va, b.NextU64());
    same_c += va == c.NextU64();
    same_d += va == d.NextU64();
  }
  EXPECT_EQ(same_c, 0);
  EXPECT_EQ(same_d, 0);
}

TEST(Rng, DistributionsHaveTheirMoments) {
  RngStream rng(5, "moments");
  const int n = 400000;
  double sum_u = 0, sum_e = 0, sum_n = 0, sum_n2 = 0, sum_l = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    sum_u += rng.Uniform();
    sum_e += rng.Exponential(2.0);
    double z = rng.Normal();
    sum_n += z;
    sum_n2 += z * z;
    double l = rng.LogNormalMeanOne(0.3);
    sum_l += l;
    sum_l2 += l * l;
  }
  // Tolerances are 5 standard errors of each sample mean.
  EXPECT_NEAR(sum_u / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sum_e / n, 2.0, 5 * 2.0 / std::sqrt(n));
  EXPECT_NEAR(sum_n / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sum_n2 / n, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sum_l / n, 1.0, 5 * 0.3 / std::sqrt(n));
  const double var = sum_l2 / n - (sum_l / n) * (sum_l / n);
  EXPECT_NEAR(std::sqrt(var), 0.3, 0.01);
}

TEST(Rng, BelowIsUniform) {
  RngStream rng(9, "below");
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[rng.Below(7)];
  for (int c : counts) EXPECT_NEAR(c, n / 7, 5 * std::sqrt(n / 7.0));
}

}  // namespace
}  // namespace gpuslice

namespace gpuslice {
namespace {

TEST(EventQueue, InterleavedPushAndPopAgreeWithAReferenceOrder) {
  // Pushes always at or after the last popped time, as the engine guarantees, with many ties.
  EventQueue q;
  std::multimap<std::pair<SimTime, uint64_t>, uint64_t> reference;
  RngStream rng(4, "interleaved");
  SimTime now = 0;
  uint64_t seq = 0;
  for (int step = 0; step < 200000; ++step) {
    if (reference.empty() || rng.Uniform() < 0.55) {
      SimTime t = now + static_cast<SimTime>(rng.Below(4) == 0 ? 0 : rng.Below(1'000'000'000));
      q.Push(t, nullptr, seq);
      reference.emplace(std::make_pair(t, seq), seq);
      ++seq;
    } else {
      Event e = q.Pop();
      auto it = reference.begin();
      ASSERT_EQ(e.time, it->first.first);
      ASSERT_EQ(e.tag, it->second);
      now = e.time;
      reference.erase(it);
    }
    ASSERT_EQ(q.size(), reference.size());
  }
}

TEST(EventQueue, PushBeforeAPeekedEventIsAllowed) {
  EventQueue q;
  q.Push(50, nullptr, 1);
  q.Push(70, nullptr, 2);
  EXPECT_EQ(q.top().time, 50);
  q.Push(30, nullptr, 3);
  EXPECT_EQ(q.Pop().tag, 3u);
  EXPECT_EQ(q.Pop().tag, 1u);
  EXPECT_EQ(q.Pop().tag, 2u);
}

}  // namespace
}  // namespace gpuslice
