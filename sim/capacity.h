// Capacity search: the largest multiple of a scenario's load at which a policy still meets
// an SLO-attainment target, found by bisection over the rate scale. This is how the
// gpu-lets paper reports throughput, and how users size clusters.
//
// The load is scaled at its source: generator rates are multiplied, trace sources get the
// factor in their rate_scale (thinning below 1, superposed shifted copies above). Each run
// runs every seed given (default: the scenario's), and a scale meets the target when the
// mean attainment over the seeds does; each trial keeps the per-seed values and a 95%
// Student-t interval. Bisection assumes attainment falls as the load grows, so afterwards
// the trials are checked: probes below the answer, and any scale that misses the target
// below one that meets it, make the result a non-monotone bracket instead of a capacity.
// With a finite run the measured attainment is noisy near the threshold, so the bracket is
// what the data supports, not an exact answer.
#ifndef GPUSLICE_SIM_CAPACITY_H_
#define GPUSLICE_SIM_CAPACITY_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice {

struct CapacityOptions {
  double attainment = 0.99;  // target fraction of requests meeting their SLO
  double tolerance = 0.01;   // stop when (hi - lo) / hi is below this
  int max_runs = 40;  // most load levels tried (each runs every seed)
  std::vector<uint64_t> seeds;  // empty: the scenario's seed
  // After the search, attainment is also measured at these fractions of the capacity found;
  // one that misses the target means attainment is not monotone in load.
  std::vector<double> monotone_probes{0.25, 0.5, 0.75};
};

struct CapacityTrial {
  double scale;
  double attainment;           // mean over the seeds
  double attainment_ci95 = 0;  // half-width of its 95% Student-t interval (0 for one seed)
  double offered_rps;          // requests per simulated second at this scale (mean)
  std::vector<double> attainment_per_seed;
};

struct CapacityResult {
  double scale = 0;         // the largest scale that met the target (lo)
  double lo = 0, hi = 0;    // final bracket: lo met the target, hi did not (0 / inf if none found)
  double offered_rps = 0;   // load at `scale`
  int runs = 0;              // simulations (load levels × seeds)
  std::vector<CapacityTrial> trials;
  // False: a scale missed the target below one that met it. The non-monotone bracket is
  // then the lowest such scale and the highest scale above it that met the target.
  bool monotone = true;
  double non_monotone_at = 0;
  double non_monotone_met_at = 0;
};

CapacityResult FindCapacity(const Scenario& scenario, const PolicyRunSpec& run, const CapacityOptions& options,
                            const std::atomic<bool>* interrupted = nullptr);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CAPACITY_H_
