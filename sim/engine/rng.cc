#include "sim/engine/rng.h"

#include <cmath>

namespace gpuslice {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 Uint128;

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t HashName(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return SplitMix64(h);
}

RngStream::RngStream(uint64_t seed, std::string_view name) {
  uint64_t x = seed ^ HashName(name);
  for (uint64_t& word : s_) word = SplitMix64(x);
}

uint64_t RngStream::NextU64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double RngStream::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double RngStream::Exponential(double mean) { return -mean * std::log(UniformOpen0()); }

double RngStream::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u, v, s;
  do {
    u = 2.0 * Uniform() - 1.0;
    v = 2.0 * Uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double m = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * m;
  has_spare_ = true;
  return u * m;
}

double RngStream::LogNormalMeanOne(double cv) {
  if (cv <= 0.0) return 1.0;
  const double sigma2 = std::log1p(cv * cv);
  return std::exp(-0.5 * sigma2 + std::sqrt(sigma2) * Normal());
}

uint64_t RngStream::Below(uint64_t n) {
  // Lemire's nearly divisionless method with rejection: unbiased.
  Uint128 m = static_cast<Uint128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<Uint128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

}  // namespace gpuslice
