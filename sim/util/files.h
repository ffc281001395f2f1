// Writing files so that no half-written file is ever seen at the final path, and a failed
// write leaves nothing behind.
#ifndef GPUSLICE_SIM_UTIL_FILES_H_
#define GPUSLICE_SIM_UTIL_FILES_H_

#include <string>
#include <vector>

namespace gpuslice {

// Writes `text` to `path` (creating its folder) through a temporary file beside it, unique to
// this process and thread, and a rename. Throws InputError if it cannot; then neither the
// temporary nor the folders it made are left.
void WriteFileAtomically(const std::string& path, const std::string& text);

// Makes the missing folders above `path` (its parent and the parent's missing ancestors) and
// returns those it made, outermost first. Throws InputError naming `path` if it cannot (and
// removes what it made).
std::vector<std::string> MakeParentFolders(const std::string& path);

// Removes the folders of `made` (as MakeParentFolders returns them) that are empty, innermost
// first. Never throws.
void RemoveFoldersIfEmpty(const std::vector<std::string>& made) noexcept;

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_FILES_H_
