#include "sim/util/files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <system_error>
#include <thread>

#include "sim/util/error.h"

namespace gpuslice {

void WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) throw InputError(path + ": cannot create its folder: " + ec.message());
  }
  const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                           std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()) % 1000000);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path + ": cannot write");
    out << text;
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(temp, ec);
      throw InputError(path + ": cannot write");
    }
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw InputError(path + ": cannot write: " + ec.message());
  }
}

}  // namespace gpuslice
