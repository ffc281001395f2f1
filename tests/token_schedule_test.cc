// The executor's token schedule against bounds that follow from FaST-GShare's rules alone,
// and against the measured V100 quota grid.
#include <gtest/gtest.h>

#include <cmath>

#include "gpu/profile.h"
#include "sim/token_window.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

TEST(TokenWindow, UsageSlidesOutOfTheWindow) {
  // Records [0, 10) and [20, 25) ms, window 40 ms, quota 0.3 (budget 12 ms).
  const SimTime ms = kNsPerMs, window = 40 * ms;
  TokenWindow w;
  w.Charge(0, 10 * ms);
  w.Charge(20 * ms, 25 * ms);
  EXPECT_EQ(w.UsageIn(30 * ms, window), 15 * ms);
  EXPECT_EQ(w.UsageIn(45 * ms, window), 10 * ms);  // [5, 45]: 5 + 5
  EXPECT_FALSE(w.MayRun(30 * ms, window, 0.3));
  // Usage must fall to 12 ms - 1 ns: 3 ms + 1 ns of the first record must leave, i.e. the
  // trailing edge reaches 3 ms + 1 ns, at 43 ms + 1 ns.
  EXPECT_EQ(w.RunnableAt(30 * ms, window, 0.3), 43 * ms + 1);
  EXPECT_TRUE(w.MayRun(43 * ms + 1, window, 0.3));
  w.Prune(50 * ms, window);
  EXPECT_EQ(w.records(), 1u);
}

TEST(TokenWindow, RecordsPastTwoSpillAndComeBackAsTheyLeaveTheWindow) {
  // Records [0, 5), [10, 15), [20, 25), [30, 35) ms; window 40 ms. The first two are kept
  // inside the object, the rest spill; the answers do not depend on where they are kept.
  const SimTime ms = kNsPerMs, window = 40 * ms;
  TokenWindow w;
  w.Charge(0, 5 * ms);
  w.Charge(5 * ms, 8 * ms);  // back to back: one record [0, 8)
  EXPECT_EQ(w.records(), 1u);
  EXPECT_EQ(w.UsageIn(8 * ms, window), 8 * ms);
  w = TokenWindow();
  for (SimTime start : {0, 10, 20, 30}) w.Charge(start * ms, (start + 5) * ms);
  EXPECT_EQ(w.records(), 4u);
  EXPECT_EQ(w.UsageIn(35 * ms, window), 20 * ms);  // [-5, 35]: all four
  EXPECT_EQ(w.UsageIn(50 * ms, window), 15 * ms);  // [10, 50]: the last three
  // At 35 ms, quota 0.3 (budget 12 ms): usage must shed 20 - 12 ms + 1 ns. The first record
  // gives 5 ms as the trailing edge crosses it (at 40-45 ms); the other 3 ms + 1 ns come from
  // [10, 15), which the edge reaches at 50 ms: runnable at 53 ms + 1 ns.
  EXPECT_EQ(w.RunnableAt(35 * ms, window, 0.3), 53 * ms + 1);
  EXPECT_FALSE(w.MayRun(53 * ms, window, 0.3));  // [13, 53]: 2 + 5 + 5 = 12 ms
  EXPECT_TRUE(w.MayRun(53 * ms + 1, window, 0.3));
  w.Prune(50 * ms, window);  // [0, 5) ends before 10 ms
  EXPECT_EQ(w.records(), 3u);
  w.Prune(60 * ms, window);  // [10, 15) ends before 20 ms: two left, kept inside again
  EXPECT_EQ(w.records(), 2u);
  EXPECT_EQ(w.UsageIn(60 * ms, window), 10 * ms);
  w.Charge(40 * ms, 45 * ms);  // a third: spills again
  w.Charge(45 * ms, 50 * ms);  // back to back with it: [40, 50)
  EXPECT_EQ(w.records(), 3u);
  EXPECT_EQ(w.UsageIn(60 * ms, window), 20 * ms);
  // At 60 ms ([20, 60]: 5 + 5 + 10 ms) shed 8 ms + 1 ns: [20, 25), then 3 ms + 1 ns of [30, 35),
  // which the trailing edge reaches at 70 ms. At 73 ms + 1 ns: 2 ms - 1 ns + 10 ms < 12 ms.
  EXPECT_EQ(w.RunnableAt(60 * ms, window, 0.3), 73 * ms + 1);
  w.Prune(100 * ms, window);  // all end by 60 ms
  EXPECT_EQ(w.records(), 0u);
  EXPECT_EQ(w.UsageIn(100 * ms, window), 0);
  EXPECT_TRUE(w.MayRun(100 * ms, window, 0.3));
}

// `pods` static pods of a constant 5 ms model on one V100, saturated by Poisson arrivals.
Json Saturated(int pods, double quota, double sm_percent, const Json& model, int max_batch, double rate_rps) {
  Json m = model;
  m["slo_ms"] = 100000;
  m["memory_mb"] = 1000;
  m["max_batch"] = max_batch;
  m["queue_timeout_s"] = 5;
  return {{"name", "saturated"},
          {"cluster", {{"nodes", {{{"count", 1}, {"gpu", "V100-16GB"}}}}}},
          {"models", {{"m", m}}},
          {"workload", {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", rate_rps}, {"end_s", 60}}}},
          {"duration_s", 60},
          {"drain_s", 0},
          {"policies", {{"p", {{"policy", "static-slices"},
                               {"pods", {{{"model", "m"}, {"sm_percent", sm_percent}, {"quota", quota}, {"count", pods}}}}}}}}};
}

TEST(TokenSchedule, ASaturatedSliceServesItsQuotaOfTheConstantModel) {
  // 5 ms per request, quota 0.2, W = 40 ms: 8 ms of GPU time per 40 ms window, i.e. 40 rps
  // (0.2 × the GPU's 200 rps). No launch-ahead for an analytic model (the plain token rule),
  // so the bound is exact; the slice is saturated (600 rps offered), so it reaches it.
  RunResult r = testing::RunInline(Saturated(1, 0.2, 100, {{"latency_ms", 5}}, 1, 600));
  EXPECT_LE(r.overall.completed, 40.0 * 60 + 2);
  EXPECT_GE(r.overall.completed, 0.98 * 40.0 * 60);
}

TEST(TokenSchedule, SlicesSharingAnSmGroupNeverExceedIt) {
  // Five pods of quota 0.2 on one whole-GPU partition: together at most the GPU's 200 rps;
  // saturated, they get it (each its 40 rps).
  RunResult r = testing::RunInline(Saturated(5, 0.2, 100, {{"latency_ms", 5}}, 1, 600));
  EXPECT_LE(r.overall.completed, 200.0 * 60 + 5);
  EXPECT_GE(r.overall.completed, 0.98 * 200.0 * 60);
}

Json ResNet() { return {{"profile", testing::SourceDir() + "/gpu/profiles/v100/resnet50.csv"}}; }

TEST(TokenSchedule, SaturatedV100SlicesStayWithinQuotaPlusOneOverrunPerWindow) {
  // ResNet-50 on 50% of a V100 at quota 0.3, batch 1. The measured solo latency (quota 100)
  // is 20.3337 ms and the measured latency at quota 0.3 is 52.8426 ms
  // (gpu/profiles/v100/resnet50.csv). A batch never takes less GPU time than solo, and the
  // work queued past a token's end is at most one batch, itself at most the measured
  // throttled latency o. "A pod that used q·W + o at t0 can run again at about t0 + W + o"
  // (reference/PAPERS.md, ST-vGPU): a saturated slice holds the SMs at most
  // (12 + o) / (40 + o) <= (12 + 52.8426) / (40 + 52.8426) = 0.698 of the time, and each
  // batch needs at least the solo 20.3337 ms of it.
  const LatencyProfile p = LatencyProfile::Load(testing::SourceDir() + "/gpu/profiles/v100/resnet50.csv");
  const double solo = p.MeasuredMs(1, 50, 100), throttled = p.MeasuredMs(1, 50, 30);
  ASSERT_NEAR(solo, 20.3337, 1e-4);
  ASSERT_NEAR(throttled, 52.8426, 1e-4);
  RunResult one = testing::RunInline(Saturated(1, 0.3, 50, ResNet(), 1, 200));
  EXPECT_LE(one.overall.completed * solo, 60000.0 * (12 + throttled) / (40 + throttled) + throttled);
  // Three such slices time-share the partition: their work together fits in its time.
  RunResult three = testing::RunInline(Saturated(3, 0.3, 50, ResNet(), 1, 400));
  EXPECT_LE(three.overall.completed * solo, 60000.0 + 3 * throttled);
}

TEST(TokenSchedule, OneBatchOnAnIdleSliceTakesTheMeasuredLatency) {
  // Every measured (batch, SM share, quota) point of ResNet-50 and MobileNet-V3 at batches 1
  // and 4: `batch` requests arriving at once on an idle pod take the measured latency.
  for (const char* model : {"resnet50", "mobilenet_v3_large"}) {
    const std::string path = testing::SourceDir() + "/gpu/profiles/v100/" + model + ".csv";
    const LatencyProfile p = LatencyProfile::Load(path);
    for (int batch : {1, 4}) {
      std::string csv = "time_s,function\n";
      for (int i = 0; i < batch; ++i) csv += "0.5,m\n";
      const std::string trace = testing::WriteTempFile("burst.csv", csv);
      for (double sm : {10.0, 30.0, 50.0, 100.0}) {
        for (double quota : p.quota_percents()) {
          const double measured = p.MeasuredMs(batch, sm, quota);
          if (measured < 0) continue;
          Json j = Saturated(1, quota / 100.0, sm, {{"profile", path}}, batch, 1);
          j["workload"] = {{{"type", "csv"}, {"file", trace}}};
          j["drain_s"] = 600;
          j["models"]["m"]["batch_timeout_ms"] = 1;  // the batch is full at once: no wait
          j.erase("duration_s");
          RunResult r = testing::RunInline(j);
          ASSERT_EQ(r.overall.completed, static_cast<uint64_t>(batch));
          EXPECT_NEAR(r.models[0].latency_max_ms, measured, 1e-3 + 0.006 * measured)
              << model << " batch " << batch << " sm " << sm << " quota " << quota;
        }
      }
    }
  }
}

}  // namespace
}  // namespace gpuslice
