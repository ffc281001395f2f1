// Finding cuBLAS and cuDNN on a machine we did not build on.
//
// The calibration binary links the CUDA runtime statically and loads the driver (libcuda)
// through it; cuBLAS and cuDNN are opened at run time by full path, from the first folder
// that holds them among: $GPUSLICE_CUDA_LIBS (folders separated by ':'), $LD_LIBRARY_PATH,
// the dynamic linker's cache (`ldconfig -p`), the CUDA toolkit folders (/usr/local/cuda*),
// $CONDA_PREFIX/lib, and the pip wheels' nvidia/*/lib folders of the Python installs found.
// A library missing everywhere is a GpuError that names it and every folder searched.
// Nothing here needs a GPU or CUDA headers.
#ifndef GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_
#define GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_

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

// dlopen()s `soname` by full path (RTLD_NOW | RTLD_GLOBAL); `purpose` is for the message.
// Throws GpuError naming the library and the folders searched when it is not found or does
// not load. Returns the handle; `path` receives where it was found.
void* OpenLibrary(const std::string& soname, const std::string& purpose, std::string* path);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_CUDA_LIBRARIES_H_
