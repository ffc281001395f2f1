#include "tools/cli_capacity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "tools/cli_util.h"

namespace gpuslice {

int ExecuteCapacity(const CapacityCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&] {
    // Checked as they are parsed too (gpuslice_main.cc); again here for other callers.
    if (!(cmd.options.attainment > 0 && cmd.options.attainment <= 1)) throw InputError("--attainment: must be in (0, 1]");
    if (!(cmd.options.tolerance > 0 && cmd.options.tolerance < 1)) throw InputError("--tolerance: must be in (0, 1)");
    if (cmd.options.max_runs < 1) throw InputError("--max-runs: must be >= 1");
    if (cmd.seeds < 1) throw InputError("--seeds: must be >= 1");
    std::vector<std::string> sets = cmd.sets;
    if (cmd.seed >= 0) sets.push_back("seed=" + std::to_string(cmd.seed));
    if (cmd.load_scale > 0) sets.push_back("load_scale=" + nlohmann::ordered_json(cmd.load_scale).dump());
    const Scenario scenario = LoadScenario(cmd.scenario_path, sets);
    PrintWarnings(scenario);
    std::vector<PolicyRunSpec> runs = SelectPolicyRuns(scenario, cmd.policy);
    if (runs.size() != 1) throw InputError("gpuslice capacity takes one policy (--policy)");
    if (scenario.seed > static_cast<uint64_t>(kMaxSeed) - static_cast<uint64_t>(cmd.seeds - 1)) {
      throw InputError("--seeds " + std::to_string(cmd.seeds) + ": seeds from " + std::to_string(scenario.seed) +
                       " would pass the largest seed, " + std::to_string(kMaxSeed));
    }
    CapacityOptions options = cmd.options;
    for (int k = 0; k < cmd.seeds; ++k) options.seeds.push_back(scenario.seed + static_cast<uint64_t>(k));
    const CapacityResult r = FindCapacity(scenario, runs.front(), options, &interrupted);
    if (cmd.json) {
      nlohmann::ordered_json j = {{"scenario", scenario.name}, {"policy", runs.front().run_name},
                                  {"attainment_target", cmd.options.attainment}, {"capacity_scale", r.scale},
                                  {"offered_rps", r.offered_rps}, {"bracket", {r.lo, std::isfinite(r.hi) ? r.hi : -1.0}},
                                  {"seeds", options.seeds}, {"runs", r.runs}, {"monotone", r.monotone}};
      if (!r.monotone) {
        j["non_monotone_at_scale"] = r.non_monotone_at;
        j["non_monotone_bracket"] = {r.non_monotone_at, r.non_monotone_met_at};
      }
      for (const CapacityTrial& t : r.trials) {
        j["trials"].push_back({{"scale", t.scale}, {"attainment", t.attainment},
                               {"attainment_ci95", {t.attainment - t.attainment_ci95, t.attainment + t.attainment_ci95}},
                               {"attainment_per_seed", t.attainment_per_seed}, {"offered_rps", t.offered_rps}});
      }
      std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
      return 0;
    }
    const bool ci = options.seeds.size() > 1;
    std::printf("%-10s %-12s %-20s %-12s\n", "scale", "attainment", ci ? "95% CI" : "", "offered rps");
    for (const CapacityTrial& t : r.trials) {
      char interval[48] = "";
      if (ci) std::snprintf(interval, sizeof interval, "[%.5f, %.5f]", t.attainment - t.attainment_ci95, t.attainment + t.attainment_ci95);
      std::printf("%-10.4f %-12.5f %-20s %-12.2f\n", t.scale, t.attainment, interval, t.offered_rps);
    }
    if (ci) std::printf("attainment: mean over seeds %llu-%llu\n", static_cast<unsigned long long>(options.seeds.front()),
                        static_cast<unsigned long long>(options.seeds.back()));
    if (!r.monotone) {
      std::printf("attainment is not monotone in load: scale %.4f misses %.4f attainment while scale %.4f meets it; "
                  "no single capacity (non-monotone bracket [%.4f, %.4f], %d runs)\n",
                  r.non_monotone_at, cmd.options.attainment, r.non_monotone_met_at, r.non_monotone_at,
                  r.non_monotone_met_at, r.runs);
    } else if (r.lo <= 0) {
      double lowest = 0;
      for (const CapacityTrial& t : r.trials) lowest = lowest == 0 ? t.scale : std::min(lowest, t.scale);
      std::printf("no scale down to %.2g met %.4f attainment (%d runs)\n", lowest, cmd.options.attainment, r.runs);
    } else if (!std::isfinite(r.hi)) {
      std::printf("every scale tried met the target; capacity >= %.4f x the scenario's load (%d runs)\n", r.lo, r.runs);
    } else {
      std::printf("capacity: %.4f x the scenario's load (%.2f rps) at %.4f attainment; bracket [%.4f, %.4f], %d runs\n",
                  r.scale, r.offered_rps, cmd.options.attainment, r.lo, r.hi, r.runs);
    }
    return 0;
  });
}

}  // namespace gpuslice
