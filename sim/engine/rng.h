// Random numbers from named streams.
//
// Every consumer of randomness asks for its own stream by name ("arrivals/resnet50",
// "noise/executor"); the stream's state is derived from the scenario seed and the name
// alone, so adding a component never shifts the draws of the others. The generator
// (xoshiro256**) and the distributions are implemented here rather than taken from
// <random>, whose distributions differ between standard libraries: the same scenario and
// seed give the same numbers with any compiler.
#ifndef GPUSLICE_SIM_ENGINE_RNG_H_
#define GPUSLICE_SIM_ENGINE_RNG_H_

#include <cstdint>
#include <string_view>

namespace gpuslice {

class RngStream {
 public:
  RngStream(uint64_t seed, std::string_view name);

  uint64_t NextU64();
  // Uniform in [0, 1), 53 random bits.
  double Uniform();
  // Uniform in (0, 1]: safe to take the logarithm of.
  double UniformOpen0() { return 1.0 - Uniform(); }
  // Exponential with the given mean. REQUIRES: mean > 0.
  double Exponential(double mean);
  // Standard normal (Marsaglia's polar method).
  double Normal();
  // Log-normal with mean 1 and the given coefficient of variation. REQUIRES: cv >= 0.
  double LogNormalMeanOne(double cv);
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n);

 private:
  uint64_t s_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

// Hashes a name into 64 bits (FNV-1a followed by a SplitMix64 finaliser).
uint64_t HashName(std::string_view name);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_RNG_H_
