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
  // A step from 10 to 100 rps of a 10 ms model: per pod (batch 1, constant latency) 100 rps.
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
  // 250 rps needs 3 pods; the first tick after the step (at 60 s) sees it by 70 s.
  EXPECT_EQ(r.overall.peak_instances, 3);
  EXPECT_GE(first_scale_up, 60.0);
  EXPECT_LE(first_scale_up, 70.0);
  EXPECT_EQ(starts, 3);
}

}  // namespace
}  // namespace gpuslice
