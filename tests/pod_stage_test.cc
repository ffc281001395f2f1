// Time outside the GPU: pre/post-processing inside the pod (holding a slot of the pod, not
// the GPU, sharing pod_cpu_cores) and network time outside it (latency only).
// Oracles: hand sums of the configured times, the CPU stage's throughput bound
// cores × 1000 / (pre + post), a one-slot pod's 1000 / (pre + GPU + post), and M/G/1-PS.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sim/util/error.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

// One warm whole-GPU pod (no autoscaling) of a constant-latency model on one V100.
Json OnePod(const Json& model_extra, const Json& workload, int container_concurrency = 0) {
  Json m = {{"latency_ms", 10}, {"slo_ms", 1e9}, {"memory_mb", 1000}, {"max_batch", 1}, {"queue_timeout_s", 2}};
  for (auto it = model_extra.begin(); it != model_extra.end(); ++it) m[it.key()] = it.value();
  return {{"name", "pod-stage"},
          {"seed", 3},
          {"cluster", {{"nodes", {{{"count", 1}, {"gpu", "V100-16GB"}}}}}},
          {"models", {{"m", m}}},
          {"workload", Json::array({workload})},
          {"executor", {{"noise", {{"kind", "none"}}}}},
          {"output", {{"interval_s", 1000.0}, {"per_model_timeseries", false}}},
          {"policies", {{"pod", {{"policy", "whole-gpu"}, {"autoscaling", false}, {"warm_start", true},
                                 {"initial_replicas", 1}, {"container_concurrency", container_concurrency}}}}}};
}

// Saturated for 60 s: 100 rps offered, the run cut at 60 s, requests never time out (so no
// work is wasted on requests that expire later).
Json Saturated(Json scenario) {
  scenario["models"]["m"]["queue_timeout_s"] = 1e6;
  scenario["duration_s"] = 60;
  scenario["drain_s"] = 0;
  return scenario;
}

Json Even(double rate_rps, double seconds) {
  return {{"type", "stages"}, {"function", "m"}, {"rates_rps", {rate_rps}}, {"stage_s", seconds}, {"spacing", "even"}};
}
Json Poisson(double rate_rps, double seconds) {
  return {{"type", "poisson"}, {"function", "m"}, {"rate_rps", rate_rps}, {"end_s", seconds}};
}

TEST(PodStage, ALoneRequestTakesEachPartOnce) {
  // One request a second, each alone: latency = 30 (pre) + 10 (GPU) + 5 (post) + 20
  // (network) = 65 ms; it starts its batch after its 30 ms of pre-processing; it holds the
  // pod (Little's law: in the system) for 45 ms of every second, not the network's 20.
  RunResult r = testing::RunInline(
      OnePod({{"preprocess_ms", 30}, {"postprocess_ms", 5}, {"network_ms", 20}}, Even(1, 60)));
  ASSERT_EQ(r.overall.completed, 60u);
  EXPECT_NEAR(r.overall.latency_max_ms, 65.0, 1e-6);
  EXPECT_NEAR(r.overall.latency_mean_ms, 65.0, 1e-6);
  EXPECT_NEAR(r.overall.queue_wait_mean_ms, 30.0, 1e-6);
  EXPECT_NEAR(r.littles_law.time_avg_in_system * r.simulated_s, 60 * 0.045, 1e-6);
  EXPECT_LT(r.littles_law.relative_error, 1e-9);
}

TEST(PodStage, OverheadMsIsTheNetworkTimeUnderItsOldName) {
  Json old_name = OnePod({{"overhead_ms", 20}}, Even(1, 10));
  const Scenario s = testing::ParseInline(old_name);
  bool warned = false;
  for (const std::string& w : s.warnings) warned = warned || w.find("/models/m/overhead_ms") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_NEAR(testing::RunInline(old_name).overall.latency_max_ms, 30.0, 1e-6);  // 10 GPU + 20

  Json both = OnePod({{"overhead_ms", 20}, {"network_ms", 20}}, Even(1, 10));
  EXPECT_THROW(testing::ParseInline(both), InputError);
}

TEST(PodStage, TheCpuStageBoundsAPodsThroughput) {
  // 25 ms of CPU per request (20 pre + 5 post) on one core: at most 1000 / 25 = 40 rps,
  // though the GPU (2 ms a request) could do 500. Offered 100 rps for 60 s: the pod is
  // saturated and serves 40 rps; with two cores, 80 rps. Eight slots keep the core busy
  // (another request's CPU task is nearly always there while one is on the GPU) without
  // processor sharing spreading the core over every request ever admitted.
  for (int workers : {1, 2}) {
    RunResult r = testing::RunInline(Saturated(OnePod(
        {{"latency_ms", 2}, {"preprocess_ms", 20}, {"postprocess_ms", 5}, {"pod_cpu_cores", workers}},
        Poisson(100, 60), /*container_concurrency=*/8)));
    const double bound = workers * 40.0 * 60;
    SCOPED_TRACE("cores " + std::to_string(workers) + ": completed " + std::to_string(r.overall.completed));
    EXPECT_LE(r.overall.completed, bound + workers);
    EXPECT_GE(r.overall.completed, 0.97 * bound);
  }
}

TEST(PodStage, ASlotIsHeldThroughPreGpuAndPost) {
  // Container concurrency 1 and no CPU limit: the pod holds one request from its
  // pre-processing to the end of its post-processing, so it serves at most
  // 1000 / (20 + 10 + 5) = 28.57 rps; saturated at 100 rps it reaches it. Were pre/post
  // outside the slot, the GPU alone would allow 100 rps.
  RunResult r = testing::RunInline(Saturated(
      OnePod({{"preprocess_ms", 20}, {"postprocess_ms", 5}}, Poisson(100, 60), /*container_concurrency=*/1)));
  const double bound = 1000.0 / 35.0 * 60;
  EXPECT_LE(r.overall.completed, bound + 1);
  EXPECT_GE(r.overall.completed, 0.97 * bound);
}

TEST(PodStage, RequestsThatTimeOutInAPodFreeItsSlots) {
  // Concurrency 1, a 2 s queue timeout, 100 rps offered to a pod that serves at most
  // 1000 / 35 = 28.57 rps: the activator's buffer never empties, and its oldest request is
  // near its deadline, so many expire inside the pod, during their 20 ms of pre-processing
  // or right after it. Each such drop must free the slot at once: the pod then holds a
  // request all the time, 35 ms for each completed and at most 20 ms for each expired in
  // it, so together they cover the 60 s (less the last cycle cut at the end).
  struct Count : RequestSink {
    uint64_t completed = 0, dropped_in_pod = 0;
    void Write(const RequestRecord& r) override {
      if (r.status == 0) ++completed;
      else if (r.instance >= 0) ++dropped_in_pod;
    }
  } sink;
  Json j = OnePod({{"preprocess_ms", 20}, {"postprocess_ms", 5}}, Poisson(100, 60), /*container_concurrency=*/1);
  j["duration_s"] = 60;
  j["drain_s"] = 0;
  const Scenario s = testing::ParseInline(j);
  RunOptions options;
  options.request_sink = &sink;
  RunResult r = RunSimulation(s, SelectPolicyRuns(s, "").front(), options);
  const double held_at_most_ms = 35.0 * sink.completed + 20.0 * sink.dropped_in_pod;
  std::printf("slot held at most %.0f ms of 60000 (%llu completed, %llu expired in the pod)\n", held_at_most_ms,
              static_cast<unsigned long long>(sink.completed), static_cast<unsigned long long>(sink.dropped_in_pod));
  EXPECT_EQ(sink.completed, r.overall.completed);
  EXPECT_GT(sink.dropped_in_pod, 0u);
  EXPECT_LE(35.0 * sink.completed, 60000.0);
  EXPECT_GE(held_at_most_ms, 60000.0 - 35.0);
}

TEST(PodStage, PreProcessingOnOneCoreIsAnMG1ProcessorSharingQueue) {
  // One core shared by every pre-processing task, 10 ms each, Poisson arrivals at 50 rps
  // (ρ = 0.5), a GPU that takes 0.01 ms: M/G/1-PS, whose mean sojourn is E[S] / (1 - ρ) =
  // 20 ms whatever the service distribution (Kleinrock, Queueing Systems II, 4.4), so the
  // mean time to the batch start is 20 ms (+ the GPU queue, under 0.01 ms). 500,000
  // requests at ρ = 0.5 (the sample size tests/queueing_test.cc gives M/D/1 at this load);
  // 3% is the margin.
  Json j = OnePod({{"latency_ms", 0.01}, {"preprocess_ms", 10}, {"pod_cpu_cores", 1}, {"queue_timeout_s", 1e6}},
                  Poisson(50, 10000));
  RunResult r = testing::RunInline(j);
  std::printf("pre-processing M/G/1-PS: time to batch start %.4f ms (theory 20)\n", r.overall.queue_wait_mean_ms);
  EXPECT_EQ(r.overall.dropped_total, 0u);
  EXPECT_NEAR(r.overall.queue_wait_mean_ms / 20.0, 1.0, 0.03);
}

TEST(PodStage, PostProcessingSharesTheCoreWithTheNextRequest) {
  // One core, pre 52 ms, GPU 21 ms, post 2 ms, network 10 ms; a request every 1000/15 =
  // 66.67 ms (HAS-GPU's 15 rps stage), 300 of them. Request 0: pre [0, 52), GPU [52, 73).
  // Request 1 arrives at 66.67 and pre-processes alone until 73 (6.33 ms done), when
  // request 0's post-processing joins it: both at half speed, so 0's 2 ms take 4, ending
  // at 77: latency 87. Request 1 then has 52 - 6.33 - 2 = 43.67 ms left, alone: its
  // pre-processing ends 54 ms after its arrival, its GPU work 75 ms after, and its post-
  // processing shares the core with request 2's pre-processing for 4 ms: latency 89, and
  // request 2 is in the same phase as request 1 (8.33 ms alone + 2 shared + 41.67 alone =
  // 54 ms). Every later request takes 89 ms but the last (no one to share with: 87).
  // Mean (2 × 87 + 298 × 89) / 300. (A worker that finished the next request's
  // pre-processing before this one's post-processing would give 130.7 ms.)
  RunResult r = testing::RunInline(OnePod(
      {{"latency_ms", 21}, {"preprocess_ms", 52}, {"postprocess_ms", 2}, {"network_ms", 10}, {"pod_cpu_cores", 1}},
      Even(15, 20)));
  ASSERT_EQ(r.overall.completed, 300u);
  EXPECT_NEAR(r.overall.latency_max_ms, 89.0, 1e-3);
  EXPECT_NEAR(r.overall.latency_mean_ms, (2 * 87.0 + 298 * 89.0) / 300, 1e-3);
}

TEST(PodStage, ScalingPodsWithCpuWorkKeepsEveryRequest) {
  // A bursty stage load under fast-gshare (scales pods up and down) with long pre/post
  // processing on one core: every request ends exactly once (checked by the run's
  // conservation and Little's law). That a drained pod finishes its CPU work first is
  // checked by hand below (PodStageByHand).
  Json j = OnePod({{"preprocess_ms", 40}, {"postprocess_ms", 20}, {"pod_cpu_cores", 1}, {"queue_timeout_s", 5}},
                  {{"type", "stages"}, {"function", "m"}, {"rates_rps", {5, 60, 5, 60, 2}}, {"stage_s", 20}});
  j["policies"] = {{"fg", {{"policy", "fast-gshare"}, {"interval_s", 2}, {"rate_window_s", 2}}}};
  RunResult r = testing::RunInline(j);
  EXPECT_EQ(r.overall.arrived, r.overall.completed + r.overall.dropped_total);
  EXPECT_LT(r.littles_law.relative_error, 1e-9);
  // fast-gshare's capacity model sees the CPU bound: 1000 / 60 = 16.7 rps a pod, so 60 rps
  // needs at least 4 pods.
  EXPECT_GE(r.overall.peak_instances, 4);
}

TEST(PodStage, PreProcessingPastItsDeadlineIsDroppedAtTheDeadline) {
  // One core, 100 ms of pre-processing, 20 rps offered (twice what the core can do), a 5 s
  // queue timeout. "A request still waiting queue_timeout_s after its arrival is dropped"
  // applies to pre-processing too (it has not started its batch): every drop happens exactly
  // 5 s after its arrival, nothing is left in flight, and no completed request took more
  // than 5 s + its 10 ms batch.
  struct Drops : RequestSink {
    int64_t worst_offset_ns = 0;
    uint64_t dropped = 0;
    void Write(const RequestRecord& r) override {
      if (r.status == 0) return;
      ++dropped;
      worst_offset_ns = std::max<int64_t>(worst_offset_ns, std::llabs((r.end - r.arrival) - 5 * kNsPerSecond));
    }
  } sink;
  Json j = OnePod({{"preprocess_ms", 100}, {"pod_cpu_cores", 1}, {"queue_timeout_s", 5}}, Poisson(20, 60));
  const Scenario s = testing::ParseInline(j);
  RunOptions options;
  options.request_sink = &sink;
  RunResult r = RunSimulation(s, SelectPolicyRuns(s, "").front(), options);
  EXPECT_GT(sink.dropped, 0u);
  EXPECT_EQ(sink.worst_offset_ns, 0);
  EXPECT_EQ(r.overall.in_flight_at_end, 0u);
  EXPECT_LE(r.overall.latency_max_ms, 5010.0 + 1e-6);
}

}  // namespace
}  // namespace gpuslice

#include "sim/engine/engine.h"
#include "sim/executor.h"

namespace gpuslice {
namespace {

// The executor driven by hand: one V100, a constant 10 ms model with 30 ms of pre- and 5 ms
// of post-processing, a 2 s container start + 4 s load.
struct Hand {
  Scenario scenario = testing::ParseInline(
      {{"name", "hand"},
       {"cluster", {{"nodes", {{{"count", 1}, {"gpu", "V100-16GB"}}}}, {"container_start_s", 2}}},
       {"models", {{"m", {{"latency_ms", 10}, {"slo_ms", 1000}, {"memory_mb", 1000}, {"load_time_s", 4},
                          {"preprocess_ms", 30}, {"postprocess_ms", 5}}}}},
       {"workload", {{{"type", "poisson"}, {"function", "m"}, {"rate_rps", 1}, {"end_s", 1}}}},
       {"executor", {{"noise", {{"kind", "none"}}}}},
       {"policies", {{"p", {{"policy", "static-slices"}}}}}});
  Engine engine;
  Cluster cluster{scenario};
  Metrics metrics{scenario, nullptr};
  ActionLog actions;
  Executor executor{scenario, engine, cluster, metrics, actions};

  Request At(SimTime t) { return Request{1, t, t, 0, 0, -1, -1}; }
  // Starts a whole-GPU pod, routes one request to it at time 0 and drains the pod at once.
  int OneRequestThenDrain(bool warm) {
    std::string why;
    const int id = executor.StartInstance({0, -1, 80, 1.0, 1000, 0}, warm, &why);
    EXPECT_GE(id, 0) << why;
    executor.Admit(At(0));
    executor.Route(At(0), id);
    executor.Drain(id);
    return id;
  }
  SimTime GoneAt(int id) const {
    for (const Action& a : actions.actions()) {
      if (a.kind == "gone" && a.instance == id) return a.time;
    }
    return -1;
  }
};

TEST(PodStageByHand, ARequestRoutedToALoadingPodStartsPreProcessingWhenItIsReady) {
  // Routed at 0 to a pod ready at 6 s: pre-processing 6.000-6.030, GPU 6.030-6.040, post
  // 6.040-6.045; the pod, drained at once, goes only when that is done.
  Hand h;
  const int id = h.OneRequestThenDrain(/*warm=*/false);
  h.engine.Run();
  EXPECT_EQ(h.metrics.model(0).completed, 1u);
  EXPECT_EQ(h.GoneAt(id), 6045 * kNsPerMs);
}

TEST(PodStageByHand, ADrainedPodGoesOnlyAfterItsCpuWork) {
  // A warm pod gets a request at 0 and is drained at 0: it holds it through pre-processing
  // (0-30 ms), its batch (30-40) and post-processing (40-45), and goes at 45 ms.
  Hand h;
  const int id = h.OneRequestThenDrain(/*warm=*/true);
  EXPECT_EQ(h.GoneAt(id), -1);
  h.engine.Run();
  EXPECT_EQ(h.metrics.model(0).completed, 1u);
  EXPECT_EQ(h.GoneAt(id), 45 * kNsPerMs);
}

TEST(PodStageByHand, WholeBatchSlicesKeepOnlyTheUsageOfOneWindow) {
  // Two gpu-let style slices (whole batches, no quota) share one partition; 2,000 requests
  // each, one every 20 ms (alternating, one every 10 ms in all), each a batch of the constant
  // 10 ms model. A slice's token periods are at least one batch (10 ms) long and disjoint, so
  // at most 40 / 10 + 1 = 5 of them touch the 40 ms window; the scheduler never reads older
  // ones (whole batches have no quota to check), and keeping them made memory grow with
  // simulated time.
  Hand h;
  std::string why;
  SliceRequest r{0, -1, 80, 0.5, 1000, 0, /*whole_batches=*/true};  // the quota only meters cost
  const int a = h.executor.StartInstance(r, /*warm=*/true, &why);
  ASSERT_GE(a, 0) << why;
  r.partition = h.cluster.slice(h.executor.instance(a).slice).partition;
  r.sm_count = 0;
  const int b = h.executor.StartInstance(r, /*warm=*/true, &why);
  ASSERT_GE(b, 0) << why;
  struct Feeder final : EventHandler {
    Hand* h;
    int a, b, sent = 0;
    void OnEvent(SimTime now, uint64_t) override {
      const Request req{static_cast<uint64_t>(sent), now, now, 0, 0, -1, -1};
      h->executor.Admit(req);
      h->executor.Route(req, sent % 2 == 0 ? a : b);
      if (++sent < 4000) h->engine.ScheduleAfter(10 * kNsPerMs, this);
    }
  } feeder;
  feeder.h = &h;
  feeder.a = a;
  feeder.b = b;
  h.engine.Schedule(0, &feeder);
  h.engine.Run(41 * kNsPerSecond);
  EXPECT_EQ(h.metrics.model(0).completed, 4000u);
  for (int id : {a, b}) {
    EXPECT_LE(h.executor.usage_records(h.executor.instance(id).slice), 5u) << "instance " << id;
  }
}

}  // namespace
}  // namespace gpuslice
