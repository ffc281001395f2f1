#include "sim/histogram.h"

#include <algorithm>
#include <cmath>

namespace gpuslice {
namespace {

constexpr double kFloorNs = 1000.0;
const double kLogGrowth = std::log1p(2 * LatencyHistogram::kRelativeError);

size_t BucketOf(SimTime v) {
  if (v < kFloorNs) return 0;
  return 1 + static_cast<size_t>(std::log(static_cast<double>(v) / kFloorNs) / kLogGrowth);
}

}  // namespace

void LatencyHistogram::Add(SimTime value) {
  size_t b = BucketOf(value);
  if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
  ++buckets_[b];
  if (count_ == 0 || value < min_) min_ = value;
  if (count_ == 0 || value > max_) max_ = value;
  ++count_;
  sum_ += static_cast<double>(value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
  for (size_t i = 0; i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

double LatencyHistogram::BucketLowerNs(size_t b) {
  return b == 0 ? 0.0 : kFloorNs * std::exp(static_cast<double>(b - 1) * kLogGrowth);
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0.0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  size_t b = 0;
  for (; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) break;
  }
  double estimate = b == 0 ? kFloorNs / 2 : kFloorNs * std::exp((static_cast<double>(b) - 0.5) * kLogGrowth);
  return std::clamp(estimate, static_cast<double>(min_), static_cast<double>(max_));
}

}  // namespace gpuslice
