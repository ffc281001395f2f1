#include "traces/generators.h"

#include <cmath>
#include <numbers>

namespace gpuslice {

double GammaVariate(RngStream& rng, double shape, double scale) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) · U^(1/a).
    return GammaVariate(rng, shape + 1.0, scale) * std::pow(rng.UniformOpen0(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.Normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = rng.UniformOpen0();
    if (u < 1.0 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) {
      return d * v * scale;
    }
  }
}

GammaStream::GammaStream(int32_t function, double rate_rps, double cv, SimTime start, SimTime end, RngStream rng)
    : function_(function),
      shape_(1.0 / (cv * cv)),
      scale_ns_(1e9 / rate_rps * cv * cv),
      t_ns_(static_cast<double>(start)),
      end_(end),
      rng_(rng) {}

bool GammaStream::Next(Arrival* out) {
  t_ns_ += GammaVariate(rng_, shape_, scale_ns_);
  const SimTime t = std::llround(t_ns_);
  if (t >= end_) return false;
  *out = Arrival{t, function_};
  return true;
}

MmppStream::MmppStream(int32_t function, double rate0_rps, double rate1_rps, double sojourn0_s, double sojourn1_s,
                       SimTime start, SimTime end, RngStream rng)
    : function_(function), t_ns_(static_cast<double>(start)), end_(end), rng_(rng) {
  rate_[0] = rate0_rps * 1e-9;
  rate_[1] = rate1_rps * 1e-9;
  sojourn_ns_[0] = sojourn0_s * 1e9;
  sojourn_ns_[1] = sojourn1_s * 1e9;
  // Start in the stationary distribution.
  state_ = rng_.Uniform() < sojourn_ns_[1] / (sojourn_ns_[0] + sojourn_ns_[1]) ? 1 : 0;
  state_end_ns_ = t_ns_ + rng_.Exponential(sojourn_ns_[state_]);
}

bool MmppStream::Next(Arrival* out) {
  for (;;) {
    if (t_ns_ >= static_cast<double>(end_)) return false;
    // By memorylessness, the next arrival in this state is an exponential gap from now.
    const double gap = rate_[state_] > 0 ? rng_.Exponential(1.0 / rate_[state_]) : INFINITY;
    if (t_ns_ + gap < state_end_ns_) {
      t_ns_ += gap;
      const SimTime t = std::llround(t_ns_);
      if (t >= end_) return false;
      *out = Arrival{t, function_};
      return true;
    }
    t_ns_ = state_end_ns_;
    state_ = 1 - state_;
    state_end_ns_ = t_ns_ + rng_.Exponential(sojourn_ns_[state_]);
  }
}

DiurnalStream::DiurnalStream(int32_t function, double mean_rps, double amplitude, double period_s, double peak_s,
                             SimTime start, SimTime end, RngStream rng)
    : function_(function),
      mean_(mean_rps),
      amplitude_(amplitude),
      period_ns_(period_s * 1e9),
      peak_ns_(peak_s * 1e9),
      t_ns_(static_cast<double>(start)),
      end_(end),
      rng_(rng) {}

bool DiurnalStream::Next(Arrival* out) {
  const double max_rate = mean_ * (1.0 + amplitude_) * 1e-9;  // per ns
  for (;;) {
    t_ns_ += rng_.Exponential(1.0 / max_rate);
    const SimTime t = std::llround(t_ns_);
    if (t >= end_) return false;
    // The curve's clock is the scenario's: t − start is not used, so a source starting at
    // 6 h meets the curve at 6 h.
    const double rate = mean_ * (1.0 + amplitude_ * std::cos(2 * std::numbers::pi * (t_ns_ - peak_ns_) / period_ns_));
    if (rng_.Uniform() * mean_ * (1.0 + amplitude_) < rate) {
      *out = Arrival{t, function_};
      return true;
    }
  }
}

}  // namespace gpuslice
