// FixedDecimal: std::to_string(double), i.e. printf's "%f", without printf. Action logs
// format numbers on every control tick for every model; std::to_chars writes the same
// correctly rounded digits several times faster.
#ifndef GPUSLICE_SIM_UTIL_FIXED_FORMAT_H_
#define GPUSLICE_SIM_UTIL_FIXED_FORMAT_H_

#include <charconv>
#include <string>
#include <system_error>

namespace gpuslice {

// The text std::to_string(value) gives: fixed notation with 6 decimals.
inline std::string FixedDecimal(double value) {
  char buffer[400];  // the largest double in "%f": 309 digits, a sign, the point, 6 decimals
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 6);
  if (r.ec != std::errc()) return std::to_string(value);
  return std::string(buffer, r.ptr);
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_FIXED_FORMAT_H_
