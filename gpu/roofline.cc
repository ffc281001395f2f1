#include "gpu/roofline.h"

#include <algorithm>

namespace gpuslice {

double RooflineLatencyMs(const RooflineSpec& spec, const GpuSpec& gpu, double batch, double sm_percent) {
  const double f = sm_percent / 100.0;
  const double peak_flops = (spec.precision == "fp16" ? gpu.fp16_tflops : gpu.fp32_tflops) * 1e12;
  const double compute_ms = 1e3 * batch * spec.gflops_per_sample * 1e9 / (peak_flops * spec.efficiency * f);
  const double bytes = (spec.weights_mb + batch * spec.activations_mb_per_sample) * 1e6;
  const double bandwidth = gpu.mem_bandwidth_gbps * 1e9 * std::min(1.0, f / spec.bandwidth_saturation);
  const double memory_ms = 1e3 * bytes / bandwidth;
  return std::max({spec.floor_ms, compute_ms, memory_ms});
}

}  // namespace gpuslice
