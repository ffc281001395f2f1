#include "sim/util/files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <system_error>
#include <thread>

#include "sim/util/error.h"

namespace gpuslice {

namespace fs = std::filesystem;

std::vector<std::string> MakeParentFolders(const std::string& path) {
  std::vector<std::string> made;
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return made;
  std::vector<fs::path> missing;  // innermost first
  std::error_code ec;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec)) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (!fs::create_directory(*it, ec) && ec) {
      RemoveFoldersIfEmpty(made);
      throw InputError(path + ": cannot create its folder " + it->string() + ": " + ec.message());
    }
    made.push_back(it->string());
  }
  if (!fs::is_directory(parent, ec)) {
    RemoveFoldersIfEmpty(made);
    throw InputError(path + ": " + parent.string() + " is not a folder");
  }
  return made;
}

void RemoveFoldersIfEmpty(const std::vector<std::string>& made) noexcept {
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    std::error_code ec;
    if (fs::is_empty(*it, ec) && !ec) fs::remove(*it, ec);
  }
}

void WriteFileAtomically(const std::string& path, const std::string& text) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder");
  const std::vector<std::string> made = MakeParentFolders(path);
  const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                           std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()) % 1000000);
  bool opened = false;
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw InputError(path + ": cannot write");
      opened = true;
      out << text;
      out.flush();
      if (!out) throw InputError(path + ": cannot write");
      out.close();
      if (!out) throw InputError(path + ": cannot write");
    }
    fs::rename(temp, path, ec);
    if (ec) throw InputError(path + ": cannot write: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    if (opened) fs::remove(temp, ignored);
    RemoveFoldersIfEmpty(made);
    throw;
  }
}

}  // namespace gpuslice
