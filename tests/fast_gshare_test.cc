#include <gtest/gtest.h>

#include "sim/policies/fast_gshare.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

TEST(FastGShare, HeuristicScalesOnlyPastItsThresholds) {
  FastGShareConfig c;  // thresholds 0.2, min 1 pod
  // 2 pods of 30 rps = 60 rps of capacity.
  EXPECT_EQ(FastGSharePolicy::Desired(c, 2, 30, 70), 2);   // +17%: inside the band
  EXPECT_EQ(FastGSharePolicy::Desired(c, 2, 30, 73), 3);   // +22%: up to ceil(73 / 30)
  EXPECT_EQ(FastGSharePolicy::Desired(c, 2, 30, 130), 5);
  EXPECT_EQ(FastGSharePolicy::Desired(c, 2, 30, 49), 2);   // -18%: inside the band
  EXPECT_EQ(FastGSharePolicy::Desired(c, 4, 30, 40), 2);   // -67%: down to ceil(40 / 30)
  EXPECT_EQ(FastGSharePolicy::Desired(c, 3, 30, 0), 1);    // never below min_pods
  c.min_pods = 2;
  EXPECT_EQ(FastGSharePolicy::Desired(c, 3, 30, 0), 2);
}

TEST(FastGShare, PodsHaveTheBaselineShapeAndFollowAStepInLoad) {
  // A step from 10 to 250 rps of a 10 ms model. A pod at quota 0.5 gets 20 ms of GPU time
  // in every 40 ms window (the token rule, exact for an analytic model): 50 rps.
  nlohmann::ordered_json j = testing::FixedServersScenario(2, 10, 1, 1, "none");
  j["workload"] = {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {10, 10, 10, 250, 250, 250}}, {"stage_s", 20}}};
  j["policies"] = {{"fg", {{"policy", "fast-gshare"}, {"warm_start", true}}}};
  RunResult r = testing::RunInline(j);
  int starts = 0;
  double first_scale_up = -1;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "start") {
      ++starts;
      EXPECT_EQ(a.sm_count, 24);  // 30% of 80 SMs
      EXPECT_DOUBLE_EQ(a.quota, 0.5);
    }
    if (a.kind == "scale" && first_scale_up < 0) first_scale_up = SimToSeconds(a.time);
  }
  // The first tick after the step (at 60 s) sees it by 70 s. 250 rps needs ceil(250 / 50) =
  // 5 pods; the backlog one pod left in those 10 s, at most (250 - 50) × 10 = 2,000 requests
  // drained over 10 s, raises the first target to at most ceil((250 + 200) / 50) = 9.
  EXPECT_GE(r.overall.peak_instances, 5);
  EXPECT_LE(r.overall.peak_instances, 9);
  EXPECT_GE(first_scale_up, 60.0);
  EXPECT_LE(first_scale_up, 70.0);
  EXPECT_GE(starts, 5);
}

// A load 15% over one pod's capacity: inside the ±20% band, which the rule alone tolerates
// forever. 10 ms model at quota 1 and 100% SM: 100 rps a pod; 115 rps arriving evenly (so
// the measured rate is exactly 115 at every tick) for 120 s; cold starts of 0 s.
nlohmann::ordered_json InsideTheBand(double backlog_drain_s) {
  nlohmann::ordered_json j = testing::FixedServersScenario(2, 10, 1, 1, "none");
  j["workload"] = {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {115}}, {"stage_s", 120}, {"spacing", "even"}}};
  j["cluster"]["container_start_s"] = 0;
  j["policies"] = {{"fg", {{"policy", "fast-gshare"}, {"sm_percent", 100}, {"quota", 1.0}, {"warm_start", true},
                           {"backlog_drain_s", backlog_drain_s}}}};
  return j;
}

TEST(FastGShare, TheBacklogMakesTheBandStable) {
  // The plain band rule: 115 - 100 < 0.2 × 100, so one pod stays, at ρ = 1.15: the queue
  // grows by 15 requests a second, and the last requests wait 15 × 120 / 100 = 18 s.
  RunResult plain = testing::RunInline(InsideTheBand(0));
  EXPECT_EQ(plain.overall.peak_instances, 1);
  EXPECT_NEAR(plain.overall.latency_max_ms, 18000.0, 500.0);
  // With the backlog in the demand: at the 10 s tick the backlog is 150 requests, which add
  // 15 rps: 130 > 1.2 × 100, so a second pod comes (ceil(130 / 100) = 2); then ρ = 0.575 and
  // the backlog, whose last request has waited 1.5 s, drains at 85 rps in under 2 s: no
  // wait reaches 3.5 s.
  RunResult stable = testing::RunInline(InsideTheBand(10));
  EXPECT_EQ(stable.overall.peak_instances, 2);
  EXPECT_LT(stable.overall.latency_max_ms, 3500.0);
}

}  // namespace
}  // namespace gpuslice
