// Behaviour of the whole-gpu policy (KServe on Knative) that a user relies on.
#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "sim/policies/policy.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

class CollectingSink final : public RequestSink {
 public:
  void Write(const RequestRecord& r) override { records.push_back(r); }
  std::vector<RequestRecord> records;
};

nlohmann::ordered_json OneModel(double service_ms, nlohmann::ordered_json workload, nlohmann::ordered_json policy, int gpus = 4) {
  nlohmann::ordered_json j = testing::FixedServersScenario(gpus, service_ms, 1, 1, "none");
  j["workload"] = workload;
  j["policies"] = {{"p", policy}};
  j["cluster"]["container_start_s"] = 2.0;
  j["models"]["m"]["load_time_s"] = 4.0;
  j["output"]["interval_s"] = 1.0;
  return j;
}

RunResult RunWithSink(const nlohmann::ordered_json& j, CollectingSink* sink) {
  Scenario s = testing::ParseInline(j);
  RunOptions options;
  options.request_sink = sink;
  return RunSimulation(s, s.policies.front(), options);
}

TEST(WholeGpu, ActivatorScalesFromZeroAndTheFirstRequestPaysTheColdStart) {
  auto j = OneModel(10, {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {1}}, {"stage_s", 1}}},
                    {{"policy", "whole-gpu"}, {"initial_replicas", 0}});
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.overall.completed, 1u);
  EXPECT_EQ(r.overall.cold_starts, 1u);
  // container start 2 s + load 4 s + service 10 ms.
  EXPECT_DOUBLE_EQ(r.overall.latency_max_ms, 6010.0);
}

TEST(WholeGpu, ScalesToZeroAfterTheStableWindowAndGracePeriod) {
  // Load for 10 s, silence, then a few requests at 290-300 s.
  std::vector<double> rates(30, 0.0);
  rates[0] = 10;
  rates[29] = 1;
  auto j = OneModel(10, {{{"type", "stages"}, {"function", "m"}, {"rates_rps", rates}, {"stage_s", 10}}},
                    {{"policy", "whole-gpu"}});
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.overall.cold_starts, 2u);
  double gone_at = -1;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "gone" && gone_at < 0) gone_at = SimToSeconds(a.time);
  }
  // The last request of the burst arrives just before 10 s; the 60 s stable window then
  // empties, and after the 30 s grace period the instance goes: about 100 s, on a 2 s tick.
  EXPECT_GE(gone_at, 96.0);
  EXPECT_LE(gone_at, 104.0);
  // Whole-GPU time: held from 0 to gone_at, and again from 290 s until the end.
  EXPECT_NEAR(r.overall.whole_gpu_s, gone_at + (r.simulated_s - 290.0), 1e-6);
}

TEST(WholeGpu, ScalesOutUnderLoadUpToMaxReplicas) {
  // 200 rps of 10 ms requests = 2 busy servers; with concurrency 1 and 70% target Knative
  // asks for ceil(2 / 0.7) = 3 or more.
  nlohmann::ordered_json load = {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 200}, {"end_s", 120}}};
  RunResult free = testing::RunInline(OneModel(10, load, {{"policy", "whole-gpu"}, {"container_concurrency", 1}}, 8));
  EXPECT_GE(free.overall.peak_instances, 3);
  RunResult capped = testing::RunInline(
      OneModel(10, load, {{"policy", "whole-gpu"}, {"container_concurrency", 1}, {"max_replicas", 2}}, 8));
  EXPECT_EQ(capped.overall.peak_instances, 2);
}

// Knative's autoscaler.go on hand-built states. One warm replica, target 1 (HAS-GPU's
// `scaleTarget: 1`) at 70% utilisation: TargetValue 0.7. Requests of 100 ms arrive evenly
// at 8 rps, so exactly 0.8 are in flight at every instant (no queueing: one at a time).
TEST(WholeGpu, KpaPanicsOnTheRoundedPodCount) {
  // dppc = ceil(0.8 / 0.7) = 2, and "isOverPanicThreshold := dppc/readyPodsCount >=
  // spec.PanicThreshold" is 2 / 1 >= 2: panic at the first tick with data. (The unrounded
  // ratio, 1.14, would never panic.) In panic the count is max(dspc, dppc) = 2.
  auto j = OneModel(100, {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {8}}, {"stage_s", 20}, {"spacing", "even"}}},
                    {{"policy", "whole-gpu"}, {"target", 1}, {"warm_start", true}});
  RunResult r = testing::RunInline(j);
  double panic_at = -1;
  bool scaled_to_two = false;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "panic" && a.detail.rfind("enter", 0) == 0 && panic_at < 0) panic_at = SimToSeconds(a.time);
    if (a.kind == "scale" && a.detail.rfind("1 -> 2", 0) == 0) scaled_to_two = true;
  }
  EXPECT_DOUBLE_EQ(panic_at, 2.0);  // the first 2 s tick
  EXPECT_TRUE(scaled_to_two);
}

TEST(WholeGpu, KpaInPanicNeverScalesDownAndLeavesAStableWindowAfterTheLastSurge) {
  // The same 0.8 in flight for 20 s, then nothing. Panic starts at 2 s (above) and asks for
  // a second pod; while it loads, dppc / ready = 2 / 1 keeps panic going, and once it is
  // ready 2 / 2 = 1 does not. "a.panicTime.Add(spec.StableWindow).Before(now)" then ends
  // panic at the first tick strictly more than 60 s after the last tick over the threshold,
  // and "We do not scale down while in panic mode": no 2 -> 1 before the exit.
  std::vector<double> rates(12, 0.0);
  rates[0] = 8;
  rates[1] = 8;
  rates[11] = 0.1;  // one late request keeps the run going past the exit
  auto j = OneModel(100, {{{"type", "stages"}, {"function", "m"}, {"rates_rps", rates}, {"stage_s", 10}, {"spacing", "even"}}},
                    {{"policy", "whole-gpu"}, {"target", 1}, {"warm_start", true}, {"min_replicas", 1}});
  RunResult r = testing::RunInline(j);
  double second_ready = -1, exit_at = -1, first_down = -1;
  int panics = 0;
  for (const Action& a : r.actions.actions()) {
    if (a.kind == "ready" && a.instance == 1) second_ready = SimToSeconds(a.time);
    if (a.kind == "panic" && a.detail == "exit") exit_at = SimToSeconds(a.time);
    if (a.kind == "panic" && a.detail.rfind("enter", 0) == 0) ++panics;
    if (a.kind == "scale" && a.detail.rfind("2 -> 1", 0) == 0 && first_down < 0) first_down = SimToSeconds(a.time);
  }
  ASSERT_GT(second_ready, 0);
  ASSERT_GT(exit_at, 0);
  EXPECT_EQ(panics, 1);
  // The last tick over the threshold is the last 2 s tick at or before the second pod's
  // ready time (2 s container start + 4 s load after the 2 s tick: 8 s).
  EXPECT_DOUBLE_EQ(second_ready, 8.0);
  EXPECT_GT(exit_at, 6.0 + 60.0);
  EXPECT_LE(exit_at, 8.0 + 60.0 + 2.0);
  EXPECT_GE(first_down, exit_at);
}

TEST(WholeGpu, ContainerConcurrencyBoundsTheBatch) {
  nlohmann::ordered_json load = {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 300}, {"end_s", 30}}};
  auto j = OneModel(10, load, {{"policy", "whole-gpu"}, {"container_concurrency", 2}, {"warm_start", true},
                               {"initial_replicas", 2}, {"autoscaling", false}});
  j["models"]["m"]["max_batch"] = 8;
  CollectingSink sink;
  RunResult r = RunWithSink(j, &sink);
  int max_batch = 0;
  for (const auto& rec : sink.records) max_batch = std::max(max_batch, rec.batch);
  EXPECT_EQ(max_batch, 2);
  EXPECT_GT(r.overall.mean_batch_size, 1.0);
}

TEST(WholeGpu, QueueTimeoutDropsExactlyAtTheDeadline) {
  // One server at twice its capacity: the queue grows until requests time out.
  nlohmann::ordered_json load = {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 20}, {"end_s", 60}}};
  auto j = OneModel(100, load, {{"policy", "whole-gpu"}, {"warm_start", true}, {"autoscaling", false}});
  j["models"]["m"]["queue_timeout_s"] = 1.0;
  CollectingSink sink;
  RunResult r = RunWithSink(j, &sink);
  EXPECT_GT(r.overall.dropped[0], 100u);
  EXPECT_EQ(r.overall.completed + r.overall.dropped_total, r.overall.arrived);
  size_t drops = 0;
  for (const auto& rec : sink.records) {
    if (rec.status == 0) {
      EXPECT_LT(rec.start - rec.arrival, SecondsToSim(1.0));
    } else {
      ++drops;
      EXPECT_EQ(rec.status, static_cast<uint8_t>(DropReason::kQueueTimeout));
      EXPECT_EQ(rec.end - rec.arrival, SecondsToSim(1.0));
    }
  }
  EXPECT_EQ(drops, r.overall.dropped_total);
  EXPECT_EQ(sink.records.size(), r.overall.arrived);
}

TEST(WholeGpu, BatchTimeoutHoldsALoneRequest) {
  nlohmann::ordered_json load = {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {10}}, {"stage_s", 10}}};
  auto j = OneModel(3, load, {{"policy", "whole-gpu"}, {"warm_start", true}, {"autoscaling", false}});
  j["models"]["m"]["max_batch"] = 4;
  j["models"]["m"]["batch_timeout_ms"] = 50;
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.overall.completed, 100u);
  EXPECT_DOUBLE_EQ(r.overall.mean_batch_size, 1.0);
  EXPECT_DOUBLE_EQ(r.overall.latency_max_ms, 53.0);
  EXPECT_DOUBLE_EQ(r.overall.latency_p50_ms, 53.0);
}

TEST(WholeGpu, OverheadAddsToLatencyNotToServerTime) {
  nlohmann::ordered_json load = {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {10}}, {"stage_s", 10}}};
  auto j = OneModel(20, load, {{"policy", "whole-gpu"}, {"warm_start", true}, {"autoscaling", false}});
  j["models"]["m"]["network_ms"] = 60;
  j["models"]["m"]["slo_ms"] = 79.5;
  RunResult r = testing::RunInline(j);
  EXPECT_DOUBLE_EQ(r.overall.latency_mean_ms, 80.0);
  EXPECT_EQ(r.overall.violations, 100u);
  EXPECT_NEAR(r.overall.sm_seconds_busy, 100 * 0.020 * 80, 1e-9);
}

TEST(WholeGpu, NoFreeGpuIsRecordedAndRequestsWait) {
  // Two models, one GPU: the second model's instance is refused.
  auto j = OneModel(10, {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 5}, {"end_s", 20}},
                         {{"type", "poisson"}, {"function", "n"}, {"rate_rps", 5}, {"end_s", 20}}},
                    {{"policy", "whole-gpu"}, {"initial_replicas", 0}}, 1);
  j["models"]["n"] = {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"queue_timeout_s", 5}};
  RunResult r = testing::RunInline(j);
  int refused = 0;
  for (const Action& a : r.actions.actions()) refused += a.kind == "refused";
  EXPECT_GT(refused, 0);
  EXPECT_EQ(r.models[1].completed, 0u);
  EXPECT_EQ(r.models[1].dropped[0], r.models[1].arrived);
}

}  // namespace
}  // namespace gpuslice

namespace gpuslice {
namespace {

TEST(WholeGpu, RefusedWakeUpsAreRetriedOncePerTickNotPerRequest) {
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 1, 1, "none");
  j["models"]["n"] = {{"latency_ms", 10}, {"slo_ms", 100}, {"memory_mb", 1000}, {"queue_timeout_s", 5}};
  j["workload"] = {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 5}, {"end_s", 60}},
                   {{"type", "poisson"}, {"function", "n"}, {"rate_rps", 200}, {"end_s", 60}}};
  j["policies"] = {{"p", {{"policy", "whole-gpu"}, {"min_replicas", 1}, {"initial_replicas", 1}}}};
  j["cluster"]["nodes"][0]["count"] = 1;
  j["policies"]["p"]["initial_replicas"] = 0;
  j["policies"]["p"]["min_replicas"] = 0;
  RunResult r = testing::RunInline(j);
  size_t refused = 0;
  for (const Action& a : r.actions.actions()) refused += a.kind == "refused";
  // ~12,000 requests found no GPU for their model; refusals are logged per 2 s tick (the
  // activator's wake-up and each model's scale-up), not per request.
  EXPECT_GT(r.overall.arrived, 12000u);
  EXPECT_GT(refused, 0u);
  EXPECT_LE(refused, 3 * static_cast<size_t>(r.simulated_s / 2 + 1));
}

TEST(WholeGpu, AWorkloadWithNoArrivalsEndsAtOnce) {
  auto j = testing::FixedServersScenario(1, 10, 1, 1, "none");
  j["workload"] = {{{"type", "stages"}, {"function", "m"}, {"rates_rps", {0, 0}}, {"stage_s", 10}}};
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.overall.arrived, 0u);
  EXPECT_EQ(r.simulated_s, 0.0);
}

}  // namespace
}  // namespace gpuslice
