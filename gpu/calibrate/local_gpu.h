// The local GPU as a CalibrationDevice: SM partitions are CUDA green contexts (driver API
// reached through cudaGetDriverEntryPointByVersion, so the binary does not need libcuda to
// start), convolutions run on cuDNN, matrix products on cuBLAS (both opened at run time,
// gpu/calibrate/cuda/libraries.h), the rest on the runner's own kernels.
#ifndef GPUSLICE_GPU_CALIBRATE_LOCAL_GPU_H_
#define GPUSLICE_GPU_CALIBRATE_LOCAL_GPU_H_

#include <memory>

#include "gpu/calibrate/device.h"

namespace gpuslice {

// Throws NoGpuError when there is no usable GPU (or this build has no CUDA), GpuError when a
// library or call fails.
std::unique_ptr<CalibrationDevice> OpenLocalGpu(int device_index);

// True when this binary was built with the CUDA calibration backend.
bool BuiltWithCuda();

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_LOCAL_GPU_H_
