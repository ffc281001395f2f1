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

inline SimTime SecondsToSim(double seconds) { return std::llround(seconds * 1e9); }
inline SimTime MillisToSim(double ms) { return std::llround(ms * 1e6); }
inline double SimToSeconds(SimTime t) { return static_cast<double>(t) * 1e-9; }
inline double SimToMillis(SimTime t) { return static_cast<double>(t) * 1e-6; }

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_TIME_H_
