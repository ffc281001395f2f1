// Calendar timestamps of published traces: "YYYY-MM-DD HH:MM:SS" (or a 'T' between date and
// time), an optional fraction of up to 9 digits, and an optional zone, "Z" or "+HH:MM" /
// "-HH:MM" (the 2024 Azure LLM trace writes "2024-05-10 00:00:00.009930+00:00"). Without a
// zone the time is read as naive; with one it is converted to UTC.
#ifndef GPUSLICE_TRACES_DATETIME_H_
#define GPUSLICE_TRACES_DATETIME_H_

#include <cstdint>
#include <string_view>

#include "sim/engine/time.h"

namespace gpuslice {

// A calendar time: whole seconds since 1970-01-01 00:00:00 (negative before), and
// nanoseconds after them (0 .. 999,999,999). Years 0000..9999 all fit.
struct CalendarTime {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

// `text` as a CalendarTime (UTC when a zone is given); false if malformed.
bool ParseCalendarTime(std::string_view text, CalendarTime* out);

// Nanoseconds since 1970-01-01 00:00:00 (UTC when a zone is given); false if malformed or
// outside what SimTime holds from 1970 (about 1677..2262). Readers of traces use
// ParseCalendarTime and take differences, which fit over any 292 years.
bool ParseDateTime(std::string_view text, SimTime* out);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_DATETIME_H_
