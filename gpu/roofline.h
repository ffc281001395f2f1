// Roofline estimates for GPUs nobody has measured.
//
// From a model's work per sample (FLOPs, bytes moved) and a GPU's peaks, the latency of a
// batch of b on a share f of the SMs is
//   L(b, f) = max(floor_ms, compute, memory)
//   compute = b · flops / (peak · efficiency · f)
//   memory  = (weights + b · activations) / (bandwidth · min(1, f / bandwidth_saturation))
// The floor stands for what no GPU speeds up (kernel launches, framework overhead). The
// defaults are fitted to the V100 ResNet-50 profile, measured in FP32 by the HAS-GPU
// authors: its latency is flat at ~20.6 ms for batch 1-8 at every SM share from 40% (the
// floor), and its batch-8 curve below that gives ~5.6 ms of FP32 work at full SMs, 75% of
// the V100's 15.7 TFLOP/s. Every latency a roofline model produces is an estimate, and the
// resolved scenario says so.
#ifndef GPUSLICE_GPU_ROOFLINE_H_
#define GPUSLICE_GPU_ROOFLINE_H_

#include <string>

#include "gpu/specs.h"

namespace gpuslice {

struct RooflineSpec {
  double gflops_per_sample = 0;         // 2 × MACs
  double weights_mb = 0;                // read once per batch
  double activations_mb_per_sample = 0; // read and written per sample
  std::string precision = "fp32";       // fp32 | fp16 (tensor cores)
  double efficiency = 0.75;             // of the precision's peak
  double floor_ms = 20.0;
  double bandwidth_saturation = 0.5;    // SM share at which DRAM bandwidth saturates
};

// REQUIRES: batch >= 1, 0 < sm_percent <= 100.
double RooflineLatencyMs(const RooflineSpec& spec, const GpuSpec& gpu, double batch, double sm_percent);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_ROOFLINE_H_
