// Writing files so that no half-written file is ever seen at the final path.
#ifndef GPUSLICE_SIM_UTIL_FILES_H_
#define GPUSLICE_SIM_UTIL_FILES_H_

#include <string>

namespace gpuslice {

// Writes `text` to `path` (creating its folder) through a temporary file beside it, unique to
// this process and thread, and a rename. Throws InputError if it cannot; no temporary is left.
void WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_FILES_H_
