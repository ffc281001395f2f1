// Calendar timestamps of published traces: "YYYY-MM-DD HH:MM:SS" (or a 'T' between date and
// time), an optional fraction of up to 9 digits, and an optional zone, "Z" or "+HH:MM" /
// "-HH:MM" (the 2024 Azure LLM trace writes "2024-05-10 00:00:00.009930+00:00"). Without a
// zone the time is read as naive; with one it is converted to UTC.
#ifndef GPUSLICE_TRACES_DATETIME_H_
#define GPUSLICE_TRACES_DATETIME_H_

#include <string_view>

#include "sim/engine/time.h"

namespace gpuslice {

// Nanoseconds since 1970-01-01 00:00:00 (UTC when a zone is given); false if malformed.
bool ParseDateTime(std::string_view text, SimTime* out);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_DATETIME_H_
