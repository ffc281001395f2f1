// gpu-lets' linear interference model (Choi et al., ATC'22): the slowdown of a slice running
// beside another on the same GPU, from both models' solo L2 and DRAM bandwidth utilisation
// on the whole GPU, each scaled by its share of the SMs:
//   alpha = c0·L2_self + c1·L2_other + c2·DRAM_self + c3·DRAM_other + c4,  latency × max(1, alpha).
// The coefficients are the paper's fit; scenarios may replace them.
#ifndef GPUSLICE_GPU_INTERFERENCE_H_
#define GPUSLICE_GPU_INTERFERENCE_H_

#include <algorithm>
#include <array>

namespace gpuslice {

inline constexpr std::array<double, 5> kGpuletInterferenceCoefficients{0.1129, 0.7160, 0.3549, 0.0882, 0.8954};

struct SliceLoad {
  double l2_util = 0, dram_util = 0;  // solo, on the whole GPU, [0, 1]
  double sm_fraction = 1;
};

inline double GpuletAlpha(const std::array<double, 5>& c, const SliceLoad& self, const SliceLoad& other) {
  return c[0] * self.l2_util * self.sm_fraction + c[1] * other.l2_util * other.sm_fraction +
         c[2] * self.dram_util * self.sm_fraction + c[3] * other.dram_util * other.sm_fraction + c[4];
}

inline double GpuletSlowdown(const std::array<double, 5>& c, const SliceLoad& self, const SliceLoad& other) {
  return std::max(1.0, GpuletAlpha(c, self, other));
}

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_INTERFERENCE_H_
