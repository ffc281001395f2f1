// Calendar timestamps of published traces, "YYYY-MM-DD HH:MM:SS" with an optional fraction
// of up to 9 digits, read as naive (timezone-free) times.
#ifndef GPUSLICE_TRACES_DATETIME_H_
#define GPUSLICE_TRACES_DATETIME_H_

#include <string_view>

#include "sim/engine/time.h"

namespace gpuslice {

// Nanoseconds since 1970-01-01 00:00:00 of the naive time `text`; false if malformed.
bool ParseDateTime(std::string_view text, SimTime* out);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_DATETIME_H_
