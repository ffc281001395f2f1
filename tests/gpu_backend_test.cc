// The GPU backend without a GPU: the real-time engine, and the scenario executed through
// DeviceGpu on the simulated device (gpu/backend/simulated_device.h), whose timings are the
// scenario's own performance model, in accelerated time.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gpu/backend/device_gpu.h"
#include "gpu/backend/simulated_device.h"
#include "gpu/perf_model.h"
#include "sim/engine/engine.h"
#include "sim/engine/real_time.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/util/error.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using testing::SourceDir;

class Recorder final : public EventHandler {
 public:
  explicit Recorder(const RealTime& rt) : rt_(rt) {}
  void OnEvent(SimTime now, uint64_t tag) override {
    runs.push_back({now, rt_.Now(), tag});
  }
  struct Run {
    SimTime at, wall;
    uint64_t tag;
  };
  std::vector<Run> runs;

 private:
  const RealTime& rt_;
};

TEST(RealTimeEngine, RunsEventsNoEarlierThanTheWallClockAndWaitsForPostedOnes) {
  RealTime rt(0.5);  // a simulated second lasts half a wall second
  Engine engine;
  engine.SetRealTime(&rt);
  Recorder rec(rt);
  engine.Schedule(40'000'000, &rec, 1);  // 40 ms simulated: 20 ms of wall time
  rt.Expect();
  // t0 is taken before the poster starts its sleep, so the engine cannot return (it waits for
  // the posted event) until at least 60 ms after t0.
  const auto t0 = std::chrono::steady_clock::now();
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // 120 ms simulated
    rt.Post(&rec, 2);
  });
  engine.Run();
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  poster.join();
  ASSERT_EQ(rec.runs.size(), 2u);
  EXPECT_EQ(rec.runs[0].tag, 1u);
  EXPECT_EQ(rec.runs[0].at, 40'000'000);
  EXPECT_GE(rec.runs[0].wall, 40'000'000);  // not before its time
  // The posted event ran at the simulated time of its posting (>= 120 ms), after the first.
  EXPECT_EQ(rec.runs[1].tag, 2u);
  EXPECT_GE(rec.runs[1].at, 120'000'000);
  EXPECT_GE(wall_ms, 60);  // the engine waited for the expected event
}

Scenario ValidationScenario(const std::vector<std::string>& sets) {
  return LoadScenario(SourceDir() + "/scenarios/validation/static-slices.json", sets);
}

TEST(GpuBackend, TheScenarioOnADeviceTimedByItsOwnModelMatchesTheSimulator) {
  // 10 s of two models at 60 rps each, at half speed. The device runs each batch for the
  // PerfModel's latency, so the backend differs from the simulator only by the wall clock's
  // hand-offs (arrival -> worker -> completion, each well under 0.5 ms of wall time, 1 ms
  // simulated, against a median latency of about 20 ms: at most 5%; twice that for a loaded
  // machine) and by the order of simultaneous events.
  const Scenario scenario = ValidationScenario({"duration_s=10", "workload.0.end_s=10", "workload.1.end_s=10"});
  const PolicyRunSpec run = scenario.policies.front();
  const RunResult sim = RunSimulation(scenario, run);

  std::vector<LatencyCurve> curves;
  for (const ModelSpec& m : scenario.models) curves.push_back(m.curve);
  const PerfModel perf(curves, scenario.token_window_ms);
  const int gpu_sms = scenario.node_groups.front().gpu->sm_count;
  SimulatedDevice device(gpu_sms, 5, 0.5, [&](const std::string& model, int batch, int sms) {
    return perf.BatchLatencyMs(model == "resnet50" ? 0 : 1, batch, SliceShape{sms, gpu_sms, 1.0});
  });
  DeviceGpu gpu(device, ZooModelsFor({"resnet50", "mobilenet_v3_large"}, SourceDir() + "/gpu/calibrate/zoo", 0),
                scenario.token_window_ms);
  RealTime rt(0.5);
  RunOptions options;
  options.external_gpu = &gpu;
  options.real_time = &rt;
  const RunResult real = RunSimulation(scenario, run, options);
  EXPECT_TRUE(gpu.errors().empty());
  EXPECT_EQ(real.overall.arrived, sim.overall.arrived);
  EXPECT_EQ(real.overall.completed, sim.overall.completed);
  EXPECT_NEAR(real.overall.throughput_rps, sim.overall.throughput_rps, 0.01 * sim.overall.throughput_rps);
  EXPECT_NEAR(real.overall.latency_p50_ms, sim.overall.latency_p50_ms, 0.10 * sim.overall.latency_p50_ms);
  EXPECT_NEAR(real.overall.latency_p90_ms, sim.overall.latency_p90_ms, 0.10 * sim.overall.latency_p90_ms);
  // Two partitions of 50% of 80 SMs: 8 groups of 5 each, exactly; nothing rounded.
  for (const std::string& note : gpu.notes()) EXPECT_EQ(note.find("runs on"), std::string::npos) << note;
}

TEST(GpuBackend, AModelOutsideTheZooIsNamed) {
  try {
    ZooModelsFor({"resnet50", "alexnet"}, SourceDir() + "/gpu/calibrate/zoo", 0);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model 'alexnet': the GPU backend runs zoo models"), std::string::npos) << e.what();
  }
  // Case, '-' and '_' do not matter.
  EXPECT_EQ(ZooModelsFor({"ResNet-50"}, SourceDir() + "/gpu/calibrate/zoo", 0).front().name(), "resnet50");
}

}  // namespace
}  // namespace gpuslice
