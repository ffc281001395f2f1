// The range of times a trace may hold, and how the readers write times in their messages.
//
// Simulated time is a signed 64-bit count of nanoseconds (sim/engine/time.h): about 292
// years either side of a run's start. A reader refuses a time, or a difference of two
// calendar times, that does not fit, naming the limit (kSimTimeLimitNote); it never lets the
// conversion overflow into a wrong time.
#ifndef GPUSLICE_TRACES_TRACE_TIME_H_
#define GPUSLICE_TRACES_TRACE_TIME_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/engine/time.h"

namespace gpuslice {

inline constexpr const char* kSimTimeLimitNote = "simulated time is int64 nanoseconds, about 292 years";

// The largest whole number of seconds whose nanoseconds, plus a fraction of a second, fit in
// SimTime: 9,223,372,035 s (2^63 ns is 9,223,372,036.85 s).
inline constexpr int64_t kMaxSimSeconds = INT64_MAX / kNsPerSecond - 1;

// True if `seconds` (finite) converts to SimTime without overflow: |seconds| <= kMaxSimSeconds.
inline bool SecondsFitSimTime(double seconds) {
  return std::isfinite(seconds) && std::fabs(seconds) <= static_cast<double>(kMaxSimSeconds);
}

// SimTime `t` as exact decimal seconds, without trailing zeros: "12.5", "3", "-0.000000001".
inline std::string FormatSimSeconds(SimTime t) {
  const bool negative = t < 0;
  // |INT64_MIN| does not fit in int64; go through uint64.
  const uint64_t magnitude = negative ? uint64_t{0} - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%09llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / static_cast<uint64_t>(kNsPerSecond)),
                static_cast<unsigned long long>(magnitude % static_cast<uint64_t>(kNsPerSecond)));
  std::string text = buf;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_TRACE_TIME_H_
