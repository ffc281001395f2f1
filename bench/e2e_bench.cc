// End-to-end speed: Poisson requests from 100 functions, served by the whole-gpu policy
// (KServe/Knative) on 64 V100s with the real ResNet-50 and MobileNet-V3 profiles.
// Prints simulated requests per second of wall time and the process's peak RSS.
//
// Usage: e2e_bench [REQUESTS]   (default 10,000,000)
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/simulation.h"

int main(int argc, char** argv) {
  using namespace gpuslice;
  const double requests = argc > 1 ? std::atof(argv[1]) : 1e7;
  const int functions = 100;
  const double rate_per_function = 150.0;  // 15,000 rps in all
  const double duration_s = requests / (functions * rate_per_function);
  const std::string profiles = std::string(GPUSLICE_SOURCE_DIR) + "/gpu/profiles/v100/";
  nlohmann::ordered_json j = {
      {"name", "e2e-bench"},
      {"seed", 1},
      {"cluster", {{"nodes", {{{"count", 16}, {"gpus_per_node", 4}, {"gpu", "V100-16GB"}}}}}},
      {"models",
       {{"resnet50", {{"profile", profiles + "resnet50.csv"}, {"slo_ms", 200}, {"memory_mb", 2700},
                      {"load_time_s", 4}, {"network_ms", 10}, {"preprocess_ms", 52}, {"postprocess_ms", 2}, {"max_batch", 8}, {"queue_timeout_s", 30}}},
        {"mobilenet", {{"profile", profiles + "mobilenet_v3_large.csv"}, {"slo_ms", 150}, {"memory_mb", 2700},
                       {"load_time_s", 3}, {"network_ms", 10}, {"preprocess_ms", 52}, {"postprocess_ms", 2}, {"max_batch", 8}, {"queue_timeout_s", 30}}}}},
      {"executor", {{"noise", {{"kind", "lognormal"}, {"cv", 0.05}}}}},
      {"policies", {{"kserve", {{"policy", "whole-gpu"}, {"container_concurrency", 32}, {"initial_replicas", 24}}}}},
  };
  for (int f = 0; f < functions; ++f) {
    const std::string name = "fn" + std::to_string(f);
    j["functions"][name] = f % 2 ? "mobilenet" : "resnet50";
    j["workload"].push_back({{"type", "poisson"}, {"function", name}, {"rate_rps", rate_per_function},
                             {"end_s", duration_s}});
  }
  Scenario s = ParseScenario(j, "e2e-bench", "");
  RunResult r = RunSimulation(s, s.policies.front());
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("requests %llu  completed %llu  dropped %llu  violations %.3f%%  simulated %.0f s\n",
              static_cast<unsigned long long>(r.overall.arrived), static_cast<unsigned long long>(r.overall.completed),
              static_cast<unsigned long long>(r.overall.dropped_total), 100 * r.overall.violation_rate, r.simulated_s);
  std::printf("peak instances %d  mean batch %.2f\n", r.overall.peak_instances, r.overall.mean_batch_size);
  std::printf("wall %.2f s  %.2f M requests/s  %.2f M events/s  peak RSS %.1f MB\n", r.wall_s,
              r.overall.arrived / r.wall_s / 1e6, r.events / r.wall_s / 1e6, usage.ru_maxrss / 1024.0);
  return 0;
}
