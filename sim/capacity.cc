#include "sim/capacity.h"

#include <cmath>
#include <limits>

namespace gpuslice {

void ScaleWorkload(Scenario* s, double factor) {
  for (WorkloadSource& w : s->workload) {
    if (w.is_trace) {
      w.rate_scale *= factor;
    } else if (w.type == "stages" || w.type == "mmpp") {
      for (double& r : w.rates_rps) r *= factor;
    } else {
      w.rate_rps *= factor;  // poisson, gamma, diurnal (mean), population (total)
    }
    for (double& c : w.function_counts) c *= factor;
  }
}

CapacityResult FindCapacity(const Scenario& base, const PolicyRunSpec& run, const CapacityOptions& o,
                            const std::atomic<bool>* interrupted) {
  CapacityResult result;
  auto attainment_at = [&](double scale) {
    Scenario s = base;
    ScaleWorkload(&s, scale);
    RunOptions options;
    options.interrupted = interrupted;
    RunResult r = RunSimulation(s, run, options);
    const double attained = 1.0 - r.overall.violation_rate;
    const double offered = r.simulated_s > 0 ? static_cast<double>(r.overall.arrived) / r.simulated_s : 0.0;
    result.trials.push_back({scale, attained, offered});
    ++result.runs;
    return attained >= o.attainment;
  };
  // Bracket: from scale 1, double up while the target holds, halve down while it does not.
  double lo = 0, hi = std::numeric_limits<double>::infinity();
  double scale = 1.0;
  while (result.runs < o.max_runs) {
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
  while (lo > 0 && std::isfinite(hi) && (hi - lo) / hi > o.tolerance && result.runs < o.max_runs) {
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
      if (tried || attainment_at(probe)) continue;
      if (result.monotone || probe < result.non_monotone_at) result.non_monotone_at = probe;
      result.monotone = false;
    }
  }
  result.lo = lo;
  result.hi = hi;
  result.scale = lo;
  for (const CapacityTrial& t : result.trials) {
    if (t.scale == lo) result.offered_rps = t.offered_rps;
  }
  return result;
}

}  // namespace gpuslice
