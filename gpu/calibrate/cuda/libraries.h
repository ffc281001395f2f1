// Finding cuBLAS and cuDNN on a machine we did not build on.
//
// The calibration binary links the CUDA runtime statically and loads the driver (libcuda)
// through it; cuBLAS and cuDNN are opened at run time by full path, from the first folder
// that holds them among: $GPUSLICE_CUDA_LIBS (folders separated by ':'), $LD_LIBRARY_PATH,
// the dynamic linker's cache (`ldconfig -p`), the CUDA toolkit folders (/usr/local/cuda*),
// $CONDA_PREFIX/lib, and the pip wheels' nvidia/*/lib folders (nvidia/cu13/lib,
// nvidia/cudnn/lib, ...) of the Python installs found, including every folder on the
// sys.path of the `python3` on PATH (pyenv, conda, venvs). Where a folder holds a library of
// the wrong build (a cuDNN 9 built for CUDA 12 for a CUDA 13 binary), the search goes on to
// the next. A library missing everywhere is a GpuError that names it, every folder searched
// and every candidate refused with the reason.
// Nothing here needs a GPU or CUDA headers.
#ifndef GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_
#define GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_

#include <functional>
#include <string>
#include <vector>

namespace gpuslice {

// Paths `ldconfig -p` lists for `soname` (its output given as text).
std::vector<std::string> ParseLdconfig(const std::string& text, const std::string& soname);

// The folders searched, in order, without duplicates (from the environment, `ldconfig -p`
// and the usual install places that exist here).
std::vector<std::string> LibrarySearchPath();

// The first `dir/soname` that exists, or "" if none.
std::string FindLibraryIn(const std::string& soname, const std::vector<std::string>& dirs);
// Every `dir/soname` that exists, in the order of `dirs`.
std::vector<std::string> FindLibrariesIn(const std::string& soname, const std::vector<std::string>& dirs);

// The folders of libraries installed beside `library_path`: its own folder, then, in a pip
// wheel layout (.../nvidia/<package>/lib/), the lib folders of the other nvidia packages of
// the same install, so that cuBLAS is taken from the install cuDNN came from.
std::vector<std::string> SiblingLibraryFolders(const std::string& library_path);

// Decides whether a loaded candidate is usable: "" if so, else why not (for the message).
using LibraryCheck = std::function<std::string(void* handle, const std::string& path)>;

// dlopen()s `soname` by full path (RTLD_NOW | RTLD_GLOBAL), trying the folders `first`, then
// the search path, and takes the first candidate that loads and that `check` accepts;
// `purpose` is for the message. Throws GpuError naming the library, the folders searched and
// each refused candidate when none is usable. Returns the handle; `path` receives where it
// was found.
void* OpenLibrary(const std::string& soname, const std::string& purpose, std::string* path,
                  const LibraryCheck& check = nullptr, const std::vector<std::string>& first = {});

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_
