// The has-gpu control tick at scale: 1,000 functions (one model each, the V100 ResNet-50 and
// MobileNet-V3 profiles alternating) on 500 V100s, a Zipf population of 5,000 rps for 120 s.
// The run is timed twice, with the 2 s control tick and with the tick disabled (interval
// longer than the run); the difference over the number of ticks is the time per tick.
//
// Usage: has_gpu_tick_bench
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulation.h"

int main() {
  using namespace gpuslice;
  const int functions = 1000;
  const double duration_s = 120;
  const std::string profiles = std::string(GPUSLICE_SOURCE_DIR) + "/gpu/profiles/v100/";
  nlohmann::ordered_json j = {{"name", "tick-bench"}, {"seed", 1}};
  j["cluster"] = {{"nodes", {{{"count", 125}, {"gpus_per_node", 4}, {"gpu", "V100-16GB"}}}}};
  for (int f = 0; f < functions; ++f) {
    char name[16];
    std::snprintf(name, sizeof name, "fn%04d", f);
    j["models"][name] = {{"profile", profiles + (f % 2 ? "mobilenet_v3_large.csv" : "resnet50.csv")},
                         {"slo_ms", 200}, {"memory_mb", 2000}, {"network_ms", 60}, {"max_batch", 4},
                         {"queue_timeout_s", 30}};
  }
  j["workload"] = {{{"type", "population"}, {"functions", functions}, {"total_rps", 5000}, {"end_s", duration_s}}};
  j["output"] = {{"interval_s", 10}, {"per_model_timeseries", false}};
  j["policies"] = {{"tick", {{"policy", "has-gpu"}, {"interval_s", 2}}},
                   {"no-tick", {{"policy", "has-gpu"}, {"interval_s", 1e6}}}};
  Scenario s = ParseScenario(j, "tick-bench", "");
  RunResult with = RunSimulation(s, s.policies[0]);
  RunResult without = RunSimulation(s, s.policies[1]);
  const double ticks = with.simulated_s / 2.0;
  std::printf("1000 functions, 500 GPUs, %.0f s simulated, %llu requests\n", with.simulated_s,
              static_cast<unsigned long long>(with.overall.arrived));
  std::printf("with ticks: %.2f s wall (peak %d pods); without: %.2f s wall\n", with.wall_s,
              with.overall.peak_instances, without.wall_s);
  std::printf("control tick: %.2f ms each over %.0f ticks (%.0f%% of the run)\n",
              1e3 * (with.wall_s - without.wall_s) / ticks, ticks, 100 * (with.wall_s - without.wall_s) / with.wall_s);
  return 0;
}
