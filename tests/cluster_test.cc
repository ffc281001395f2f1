#include <gtest/gtest.h>

#include "sim/cluster/cluster.h"
#include "sim/scenario.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

Scenario TwoV100s() {
  nlohmann::ordered_json j = testing::FixedServersScenario(2, 10, 1, 1, "none");
  j["cluster"]["nodes"][0]["price_per_hour"] = 3.6;  // 0.001 USD per second
  j["policies"]["fixed"]["initial_replicas"] = 1;
  j["models"]["n"] = {{"latency_ms", 5}, {"slo_ms", 50}, {"memory_mb", 1000}};
  return testing::ParseInline(j);
}

TEST(Cluster, WholeGpuSliceAndItsCost) {
  Scenario s = TwoV100s();
  Cluster c(s);
  std::string why;
  int id = c.AllocateSlice({0, -1, 80, 1.0, 2000, 0}, SecondsToSim(10), &why);
  ASSERT_GE(id, 0) << why;
  EXPECT_EQ(c.gpus_held(), 1);
  c.FreeSlice(id, SecondsToSim(110));
  EXPECT_EQ(c.gpus_held(), 0);
  const CostMeters& m = c.meters(0);
  const SimTime end = SecondsToSim(500);
  EXPECT_DOUBLE_EQ(m.fractional_gpu.ValueAt(end), 100.0);
  EXPECT_DOUBLE_EQ(m.whole_gpu.ValueAt(end), 100.0);
  EXPECT_NEAR(m.fractional_usd.ValueAt(end), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(m.sm_held.ValueAt(end), 8000.0);
}

TEST(Cluster, RefusesWhatBreaksAnInvariantAndChangesNothing) {
  Scenario s = TwoV100s();
  Cluster c(s);
  std::string why;
  int a = c.AllocateSlice({0, -1, 48, 0.5, 4000, 0}, 0, &why);
  ASSERT_GE(a, 0);
  // SMs: 48 + 40 > 80.
  EXPECT_LT(c.AllocateSlice({0, -1, 40, 1.0, 1000, 1}, 0, &why), 0);
  EXPECT_NE(why.find("SMs free"), std::string::npos);
  // Quota: 0.5 + 0.6 > 1 in one partition.
  EXPECT_LT(c.AllocateSlice({0, c.slice(a).partition, 0, 0.6, 1000, 1}, 0, &why), 0);
  EXPECT_NE(why.find("quotas"), std::string::npos);
  // Memory: 4000 + 13000 > 16384.
  EXPECT_LT(c.AllocateSlice({0, -1, 16, 1.0, 13000, 1}, 0, &why), 0);
  EXPECT_NE(why.find("MB free"), std::string::npos);
  // Quota outside (0, 1].
  EXPECT_LT(c.AllocateSlice({1, -1, 80, 0.0, 10, 1}, 0, &why), 0);
  EXPECT_LT(c.AllocateSlice({1, -1, 80, 1.5, 10, 1}, 0, &why), 0);
  EXPECT_EQ(c.CheckInvariants(), "");
  EXPECT_EQ(c.gpu(0).slices.size(), 1u);
  // What fits is accepted: time-sharing the partition, and a second partition beside it.
  int b = c.AllocateSlice({0, c.slice(a).partition, 0, 0.5, 1000, 1}, 0, &why);
  ASSERT_GE(b, 0) << why;
  EXPECT_EQ(c.slice(b).sm_count, 48);
  ASSERT_GE(c.AllocateSlice({0, -1, 32, 1.0, 1000, 1}, 0, &why), 0) << why;
  EXPECT_EQ(c.gpu(0).free_sm(), 0);
  EXPECT_FALSE(c.SetQuota(a, 0.7, 0, &why));
  EXPECT_TRUE(c.SetQuota(a, 0.25, 0, &why));
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(Cluster, SharedGpuSplitsWholeGpuCostBySmQuotaShare) {
  Scenario s = TwoV100s();
  Cluster c(s);
  std::string why;
  // Model 0 holds 60 SMs, model 1 holds 20 SMs, for 100 s on one GPU.
  int a = c.AllocateSlice({0, -1, 60, 1.0, 1000, 0}, 0, &why);
  int b = c.AllocateSlice({0, -1, 20, 1.0, 1000, 1}, 0, &why);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  c.FreeSlice(a, SecondsToSim(100));
  c.FreeSlice(b, SecondsToSim(100));
  const SimTime end = SecondsToSim(100);
  EXPECT_NEAR(c.meters(0).whole_gpu.ValueAt(end), 75.0, 1e-9);
  EXPECT_NEAR(c.meters(1).whole_gpu.ValueAt(end), 25.0, 1e-9);
  EXPECT_NEAR(c.meters(0).fractional_gpu.ValueAt(end), 75.0, 1e-9);
  EXPECT_NEAR(c.meters(1).fractional_gpu.ValueAt(end), 25.0, 1e-9);
}

}  // namespace
}  // namespace gpuslice
