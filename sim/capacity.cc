#include "sim/capacity.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/util/csv.h"
#include "sim/util/error.h"
#include "sim/util/stats.h"
#include "traces/workload.h"

namespace gpuslice {

CapacityResult FindCapacity(const Scenario& base, const PolicyRunSpec& run, const CapacityOptions& o,
                            const std::atomic<bool>* interrupted) {
  CapacityResult result;
  std::vector<uint64_t> seeds = o.seeds;
  if (seeds.empty()) seeds.push_back(base.seed);
  int levels = 0;
  double lo_met = 0;  // the largest scale met so far, for the message when the limits stop the search
  auto attainment_at = [&](double scale) {
    Scenario s = base;
    ScaleWorkload(&s, scale);
    try {
      CheckWorkloadBounds(s.workload, "");
    } catch (const InputError& e) {
      throw InputError("capacity: load scale " + ExactNumber(scale) + " passes a workload limit (" + e.what() +
                       "); the target was met at every scale up to " + ExactNumber(lo_met) + ", so the capacity is above it");
    }
    RunOptions options;
    options.interrupted = interrupted;
    options.keep_actions = false;
    CapacityTrial trial{scale, 0, 0, 0, {}};
    for (uint64_t seed : seeds) {
      s.seed = seed;
      RunResult r = RunSimulation(s, run, options);
      trial.attainment_per_seed.push_back(1.0 - r.overall.violation_rate);
      const double offered = r.simulated_s > 0 ? static_cast<double>(r.overall.arrived) / r.simulated_s : 0.0;
      trial.offered_rps += offered / static_cast<double>(seeds.size());
      ++result.runs;
    }
    const MeanCi95 m = MeanWithCi95(trial.attainment_per_seed);
    trial.attainment = m.mean;
    trial.attainment_ci95 = m.half_width;
    result.trials.push_back(trial);
    ++levels;
    if (trial.attainment >= o.attainment) lo_met = std::max(lo_met, scale);
    return trial.attainment >= o.attainment;
  };
  // Bracket: from scale 1, double up while the target holds, halve down while it does not.
  double lo = 0, hi = std::numeric_limits<double>::infinity();
  double scale = 1.0;
  while (levels < o.max_runs) {
    if (attainment_at(scale)) {
      lo = scale;
      if (std::isfinite(hi)) break;
      scale *= 2;
    } else {
      hi = scale;
      if (lo > 0) break;
      scale /= 2;
      if (scale < 1e-6) break;
    }
  }
  // Bisect (geometric midpoint: the scale spans orders of magnitude).
  while (lo > 0 && std::isfinite(hi) && (hi - lo) / hi > o.tolerance && levels < o.max_runs) {
    const double mid = std::sqrt(lo * hi);
    if (attainment_at(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  // The bisection never contradicts itself (each trial lies inside the bracket), so it
  // cannot see a non-monotone curve: probe below the answer.
  if (lo > 0) {
    for (double f : o.monotone_probes) {
      const double probe = lo * f;
      bool tried = false;
      for (const CapacityTrial& t : result.trials) tried = tried || std::abs(t.scale - probe) <= 1e-12 * lo;
      if (!tried) attainment_at(probe);
    }
  }
  // Every trial, in scale order: a miss below a scale that met the target.
  std::vector<CapacityTrial> sorted = result.trials;
  std::sort(sorted.begin(), sorted.end(), [](const CapacityTrial& a, const CapacityTrial& b) { return a.scale < b.scale; });
  for (size_t i = 0; i < sorted.size() && result.monotone; ++i) {
    if (sorted[i].attainment >= o.attainment) continue;
    for (size_t j = sorted.size(); j-- > i + 1;) {
      if (sorted[j].attainment < o.attainment) continue;
      result.monotone = false;
      result.non_monotone_at = sorted[i].scale;
      result.non_monotone_met_at = sorted[j].scale;
      break;
    }
  }
  result.lo = lo;
  result.hi = hi;
  result.scale = lo;
  for (const CapacityTrial& t : result.trials) {
    if (t.scale == lo) result.offered_rps = t.offered_rps;
  }
  if (!result.monotone) result.scale = 0;
  return result;
}

}  // namespace gpuslice
