#include "traces/stages.h"

#include <algorithm>
#include <cmath>

namespace gpuslice {

StagesStream::StagesStream(int32_t function, std::vector<double> rates_rps, SimTime stage,
                           SimTime start, StageSpacing spacing, RngStream rng)
    : function_(function),
      rates_rps_(std::move(rates_rps)),
      stage_(stage),
      start_(start),
      spacing_(spacing),
      rng_(rng) {}

bool StagesStream::StartStage() {
  if (stage_index_ >= rates_rps_.size()) return false;
  const double rate = rates_rps_[stage_index_];
  const SimTime begin = start_ + static_cast<SimTime>(stage_index_) * stage_;
  count_ = std::llround(rate * SimToSeconds(stage_));
  emitted_ = 0;
  poisson_t_ns_ = static_cast<double>(begin);
  if (spacing_ == StageSpacing::kUniform) {
    uniform_times_.resize(static_cast<size_t>(count_));
    for (SimTime& t : uniform_times_) t = begin + static_cast<SimTime>(rng_.Uniform() * stage_);
    std::sort(uniform_times_.begin(), uniform_times_.end());
  }
  in_stage_ = true;
  return true;
}

bool StagesStream::Next(Arrival* out) {
  for (;;) {
    if (!in_stage_ && !StartStage()) return false;
    const SimTime begin = start_ + static_cast<SimTime>(stage_index_) * stage_;
    const double rate = rates_rps_[stage_index_];
    switch (spacing_) {
      case StageSpacing::kEven:
        if (emitted_ < count_) {
          *out = Arrival{begin + (stage_ * emitted_) / count_, function_};
          ++emitted_;
          return true;
        }
        break;
      case StageSpacing::kUniform:
        if (emitted_ < count_) {
          *out = Arrival{uniform_times_[static_cast<size_t>(emitted_)], function_};
          ++emitted_;
          return true;
        }
        break;
      case StageSpacing::kPoisson:
        if (rate > 0) {
          poisson_t_ns_ += rng_.Exponential(1e9 / rate);
          const SimTime t = std::llround(poisson_t_ns_);
          if (t < begin + stage_) {
            *out = Arrival{t, function_};
            return true;
          }
        }
        break;
    }
    in_stage_ = false;
    ++stage_index_;
  }
}

}  // namespace gpuslice
