// A stable 64-bit content hash (FNV-1a) as hex: the same text gives the same digits on every
// machine and build. For naming results by their content, not for security.
#ifndef GPUSLICE_SIM_UTIL_HASH_H_
#define GPUSLICE_SIM_UTIL_HASH_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace gpuslice {

// The first `digits` (1 to 16) hex digits of the hash of `text`.
inline std::string StableHashHex(std::string_view text, int digits = 16) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, static_cast<size_t>(digits < 1 ? 1 : digits > 16 ? 16 : digits));
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_HASH_H_
