#include "gpu/calibrate/cuda/libraries.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "gpu/calibrate/device.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

void AddSplit(const char* value, std::vector<std::string>& out) {
  if (!value) return;
  std::stringstream ss(value);
  for (std::string part; std::getline(ss, part, ':');) {
    if (!part.empty()) out.push_back(part);
  }
}

std::string RunLdconfig() {
  std::string text;
  for (const char* cmd : {"ldconfig -p 2>/dev/null", "/sbin/ldconfig -p 2>/dev/null"}) {
    FILE* pipe = popen(cmd, "r");
    if (!pipe) continue;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
    pclose(pipe);
    if (!text.empty()) break;
  }
  return text;
}

// nvidia/<package>/lib folders of pip wheels under a site-packages folder.
void AddWheelFolders(const fs::path& site, std::vector<std::string>& out) {
  std::error_code ec;
  const fs::path nvidia = site / "nvidia";
  if (!fs::is_directory(nvidia, ec)) return;
  std::vector<std::string> found;
  for (const auto& pkg : fs::directory_iterator(nvidia, ec)) {
    if (fs::is_directory(pkg.path() / "lib", ec)) found.push_back((pkg.path() / "lib").string());
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

// The sys.path folders of the Python interpreters on PATH.
void AddPythonPaths(std::vector<std::string>& out) {
  for (const char* cmd : {"python3 -c 'import sys; print(chr(10).join(sys.path))' 2>/dev/null",
                          "python -c 'import sys; print(chr(10).join(sys.path))' 2>/dev/null"}) {
    FILE* pipe = popen(cmd, "r");
    if (!pipe) continue;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
    pclose(pipe);
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);) {
      if (!line.empty() && line.front() == '/') AddWheelFolders(line, out);
    }
  }
}

void AddPythonInstalls(std::vector<std::string>& out) {
  std::error_code ec;
  std::vector<fs::path> lib_dirs = {"/usr/lib", "/usr/local/lib", "/opt/conda/lib"};
  if (const char* home = std::getenv("HOME")) lib_dirs.push_back(fs::path(home) / ".local/lib");
  if (const char* venv = std::getenv("VIRTUAL_ENV")) lib_dirs.push_back(fs::path(venv) / "lib");
  if (fs::is_directory("/opt", ec)) {
    for (const auto& e : fs::directory_iterator("/opt", ec)) {
      lib_dirs.push_back(e.path() / ".venv/lib");
      lib_dirs.push_back(e.path() / "lib");
    }
  }
  for (const fs::path& lib : lib_dirs) {
    if (!fs::is_directory(lib, ec)) continue;
    for (const auto& py : fs::directory_iterator(lib, ec)) {
      const std::string name = py.path().filename().string();
      if (name.rfind("python3", 0) != 0) continue;
      AddWheelFolders(py.path() / "site-packages", out);
      AddWheelFolders(py.path() / "dist-packages", out);
    }
  }
}

}  // namespace

std::vector<std::string> ParseLdconfig(const std::string& text, const std::string& soname) {
  // Lines look like "\tlibcublas.so.13 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcublas.so.13".
  std::vector<std::string> paths;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    const size_t end_name = line.find(' ', start);
    if (end_name == std::string::npos || line.compare(start, end_name - start, soname) != 0) continue;
    const size_t arrow = line.find("=> ");
    if (arrow == std::string::npos) continue;
    paths.push_back(line.substr(arrow + 3));
  }
  return paths;
}

std::vector<std::string> LibrarySearchPath() {
  std::vector<std::string> dirs;
  AddSplit(std::getenv("GPUSLICE_CUDA_LIBS"), dirs);
  AddSplit(std::getenv("LD_LIBRARY_PATH"), dirs);
  const std::string cache = RunLdconfig();
  for (const char* lib : {"libcublas.so.13", "libcudnn.so.9"}) {
    for (const std::string& p : ParseLdconfig(cache, lib)) dirs.push_back(fs::path(p).parent_path().string());
  }
  std::error_code ec;
  std::vector<std::string> cuda_roots = {"/usr/local/cuda"};
  if (const char* home = std::getenv("CUDA_HOME")) cuda_roots.insert(cuda_roots.begin(), home);
  if (const char* path = std::getenv("CUDA_PATH")) cuda_roots.insert(cuda_roots.begin(), path);
  std::vector<std::string> versioned;
  for (const auto& e : fs::directory_iterator("/usr/local", ec)) {
    if (e.path().filename().string().rfind("cuda-", 0) == 0) versioned.push_back(e.path().string());
  }
  std::sort(versioned.rbegin(), versioned.rend());
  cuda_roots.insert(cuda_roots.end(), versioned.begin(), versioned.end());
  for (const std::string& root : cuda_roots) {
    dirs.push_back(root + "/lib64");
    dirs.push_back(root + "/targets/x86_64-linux/lib");
    dirs.push_back(root + "/lib");
  }
  if (const char* conda = std::getenv("CONDA_PREFIX")) dirs.push_back(std::string(conda) + "/lib");
  dirs.push_back("/usr/lib/x86_64-linux-gnu");
  AddPythonInstalls(dirs);
  AddPythonPaths(dirs);
  std::vector<std::string> unique;
  for (const std::string& d : dirs) {
    if (std::find(unique.begin(), unique.end(), d) == unique.end() && fs::is_directory(d, ec)) unique.push_back(d);
  }
  return unique;
}

std::string FindLibraryIn(const std::string& soname, const std::vector<std::string>& dirs) {
  std::error_code ec;
  for (const std::string& d : dirs) {
    const fs::path p = fs::path(d) / soname;
    if (fs::exists(p, ec)) return p.string();
  }
  return "";
}

std::vector<std::string> FindLibrariesIn(const std::string& soname, const std::vector<std::string>& dirs) {
  std::error_code ec;
  std::vector<std::string> found;
  for (const std::string& d : dirs) {
    const fs::path p = fs::path(d) / soname;
    if (fs::exists(p, ec) && std::find(found.begin(), found.end(), p.string()) == found.end()) found.push_back(p.string());
  }
  return found;
}

std::vector<std::string> SiblingLibraryFolders(const std::string& library_path) {
  const fs::path dir = fs::path(library_path).parent_path();
  std::vector<std::string> out = {dir.string()};
  // .../nvidia/<package>/lib/<library>: the other packages' lib folders.
  if (dir.filename() == "lib" && dir.parent_path().parent_path().filename() == "nvidia") {
    std::vector<std::string> siblings;
    AddWheelFolders(dir.parent_path().parent_path().parent_path(), siblings);
    for (const std::string& s : siblings) {
      if (s != dir.string()) out.push_back(s);
    }
  }
  return out;
}

void* OpenLibrary(const std::string& soname, const std::string& purpose, std::string* path, const LibraryCheck& check,
                  const std::vector<std::string>& first) {
  std::vector<std::string> dirs = first;
  for (const std::string& d : LibrarySearchPath()) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  }
  const std::vector<std::string> candidates = FindLibrariesIn(soname, dirs);
  std::string refused;
  for (const std::string& candidate : candidates) {
    void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
      refused += "; " + candidate + " does not load: " + dlerror();
      continue;
    }
    const std::string why_not = check ? check(handle, candidate) : "";
    if (why_not.empty()) {
      if (path) *path = candidate;
      return handle;
    }
    refused += "; " + candidate + ": " + why_not;
    dlclose(handle);
  }
  std::string searched;
  for (const std::string& d : dirs) searched += (searched.empty() ? "" : ":") + d;
  if (candidates.empty()) {
    throw GpuError(soname + " (" + purpose + ") not found; searched " + (searched.empty() ? "nothing" : searched) +
                   ". Set GPUSLICE_CUDA_LIBS to the folder that holds it (find / -name '" + soname + "*' 2>/dev/null)");
  }
  throw GpuError("no usable " + soname + " (" + purpose + ")" + refused + ". Set GPUSLICE_CUDA_LIBS to the folder of a "
                 "suitable one");
}

}  // namespace gpuslice
