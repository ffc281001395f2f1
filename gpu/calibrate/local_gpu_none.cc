// The build without a CUDA toolkit: calibration reports that it cannot run here.
#include "gpu/calibrate/local_gpu.h"

namespace gpuslice {

bool BuiltWithCuda() { return false; }

std::unique_ptr<CalibrationDevice> OpenLocalGpu(int) {
  throw NoGpuError("this gpuslice was built without CUDA (no CUDA toolkit at build time); rebuild where nvcc is found");
}

}  // namespace gpuslice
