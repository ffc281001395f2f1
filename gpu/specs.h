// GpuSpec: the catalog of GPU types a scenario can name.
//
// Each entry carries what the simulator and the roofline estimates need (SMs, memory,
// bandwidth, peak FP16 tensor rate) and a default on-demand price, with the source of each
// number. Prices are list prices per GPU-hour and change over time: scenarios that report
// money should set `price_per_hour` themselves.
#ifndef GPUSLICE_GPU_SPECS_H_
#define GPUSLICE_GPU_SPECS_H_

#include <string>
#include <string_view>
#include <vector>

namespace gpuslice {

struct GpuSpec {
  std::string name;            // e.g. "V100-16GB"
  int sm_count;                // streaming multiprocessors
  long memory_mb;              // device memory, MiB
  double mem_bandwidth_gbps;   // GB/s
  double fp16_tflops;          // dense FP16 tensor-core peak
  double fp32_tflops;          // FP32 (non-tensor) peak
  double price_per_hour;       // USD per GPU-hour, default
  std::string source;          // where the numbers come from
};

// All catalogued GPU types, in a stable order.
const std::vector<GpuSpec>& GpuCatalog();

// Returns nullptr if `name` is not in the catalog.
const GpuSpec* FindGpuSpec(std::string_view name);

// "V100-16GB, T4, ..." for error messages.
std::string GpuCatalogNames();

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_SPECS_H_
