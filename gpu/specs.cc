#include "gpu/specs.h"

namespace gpuslice {

const std::vector<GpuSpec>& GpuCatalog() {
  // SMs, memory, bandwidth and FP16 rates: NVIDIA's product datasheets and architecture
  // whitepapers (Volta, Turing, Ampere, Ada, Hopper). Prices: the per-GPU share of the
  // matching AWS on-demand instance in us-east-1 (p3, g4dn, p4d, p4de, g6, p5, p5e), list
  // prices as published in 2024-2025, rounded.
  static const std::vector<GpuSpec> catalog = {
      {"V100-16GB", 80, 16 * 1024, 900.0, 125.0, 15.7, 3.06,
       "NVIDIA V100 datasheet (SXM2 16GB); price: AWS p3.2xlarge"},
      {"T4", 40, 16 * 1024, 320.0, 65.0, 8.1, 0.526,
       "NVIDIA T4 datasheet; price: AWS g4dn.xlarge"},
      {"A100-40GB", 108, 40 * 1024, 1555.0, 312.0, 19.5, 4.10,
       "NVIDIA A100 datasheet (SXM4 40GB); price: AWS p4d.24xlarge / 8"},
      {"A100-80GB", 108, 80 * 1024, 2039.0, 312.0, 19.5, 5.12,
       "NVIDIA A100 datasheet (SXM4 80GB); price: AWS p4de.24xlarge / 8"},
      {"L4", 58, 24 * 1024, 300.0, 121.0, 30.3, 0.805,
       "NVIDIA L4 datasheet; price: AWS g6.xlarge"},
      {"H100-80GB", 132, 80 * 1024, 3350.0, 989.0, 67.0, 12.29,
       "NVIDIA H100 datasheet (SXM5); price: AWS p5.48xlarge / 8"},
      {"H200-141GB", 132, 141 * 1024, 4800.0, 989.0, 67.0, 13.80,
       "NVIDIA H200 datasheet (SXM); price: AWS p5e.48xlarge / 8, approximate"},
  };
  return catalog;
}

const GpuSpec* FindGpuSpec(std::string_view name) {
  for (const GpuSpec& spec : GpuCatalog()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string GpuCatalogNames() {
  std::string names;
  for (const GpuSpec& spec : GpuCatalog()) {
    if (!names.empty()) names += ", ";
    names += spec.name;
  }
  return names;
}

}  // namespace gpuslice
