// Simulated time: a signed 64-bit count of nanoseconds since the start of a run.
//
// Every part of gpuslice measures time in SimTime. Conversions round to the nearest
// nanosecond, so 2^63 ns (about 292 years) is the longest run the engine can represent.
#ifndef GPUSLICE_SIM_ENGINE_TIME_H_
#define GPUSLICE_SIM_ENGINE_TIME_H_

#include <cmath>
#include <cstdint>
#include <limits>

namespace gpuslice {

using SimTime = int64_t;

inline constexpr SimTime kNsPerUs = 1'000;
inline constexpr SimTime kNsPerMs = 1'000'000;
inline constexpr SimTime kNsPerSecond = 1'000'000'000;
inline constexpr SimTime kForever = std::numeric_limits<SimTime>::max();

// The longest time or duration any input may give, in seconds: 1e9 s (about 31.7 years).
// Simulated time holds about 292 years, so sums of a few such times still fit; readers of
// scenarios and traces refuse larger values with this limit in the message.
inline constexpr double kMaxInputSeconds = 1e9;

// Nanoseconds rounded to the nearest; values past the representable range saturate at
// ±kForever (and NaN gives 0) instead of overflowing. Readers range-check their inputs, so
// saturation is a last defence, never a result.
inline SimTime NanosToSim(double ns) {
  if (!(ns == ns)) return 0;
  if (ns >= 9.2e18) return kForever;
  if (ns <= -9.2e18) return -kForever;
  return std::llround(ns);
}
inline SimTime SecondsToSim(double seconds) { return NanosToSim(seconds * 1e9); }
inline SimTime MillisToSim(double ms) { return NanosToSim(ms * 1e6); }
inline double SimToSeconds(SimTime t) { return static_cast<double>(t) * 1e-9; }
inline double SimToMillis(SimTime t) { return static_cast<double>(t) * 1e-6; }

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_TIME_H_
