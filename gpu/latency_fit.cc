#include "gpu/latency_fit.h"

#include <algorithm>
#include <cmath>

#include "gpu/sample_stats.h"

namespace gpuslice {
namespace {

double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  if (xs.size() == 1 || x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const size_t hi = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
  const size_t lo = hi - 1;
  return ys[lo] + (ys[hi] - ys[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo]);
}

}  // namespace

std::vector<double> NonIncreasing(const std::vector<double>& values) {
  std::vector<std::pair<double, size_t>> blocks;  // (mean, count)
  for (double v : values) {
    blocks.push_back({v, 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].first < blocks.back().first) {
      auto [m2, n2] = blocks.back();
      blocks.pop_back();
      auto& [m1, n1] = blocks.back();
      m1 = (m1 * static_cast<double>(n1) + m2 * static_cast<double>(n2)) / static_cast<double>(n1 + n2);
      n1 += n2;
    }
  }
  std::vector<double> out;
  for (auto [m, n] : blocks) out.insert(out.end(), n, m);
  return out;
}

double SmCurve::At(double s) const { return std::max(floor, a + k / s); }

SmCurve SmCurve::Fit(const std::vector<double>& xs, const std::vector<double>& ys) {
  const size_t n = xs.size();
  SmCurve best;
  double best_error = INFINITY;
  for (size_t cut = 0; cut <= n; ++cut) {
    SmCurve c;
    c.floor = cut < n ? Median(std::vector<double>(ys.begin() + static_cast<long>(cut), ys.end())) : 0.0;
    if (cut >= 2) {
      // Least squares of y = a + k·(1/s) over the first `cut` points.
      double su = 0, sy = 0, suu = 0, suy = 0;
      for (size_t i = 0; i < cut; ++i) {
        const double u = 1.0 / xs[i];
        su += u;
        sy += ys[i];
        suu += u * u;
        suy += u * ys[i];
      }
      const double m = static_cast<double>(cut);
      const double det = m * suu - su * su;
      c.k = det != 0 ? (m * suy - su * sy) / det : 0.0;
      c.a = (sy - c.k * su) / m;
    } else if (cut == 1) {
      c.k = ys[0] * xs[0];
    }
    double error = 0;
    for (size_t i = 0; i < n; ++i) error += std::fabs(c.At(xs[i]) - ys[i]) / ys[i];
    if (error < best_error) {
      best_error = error;
      best = c;
    }
  }
  return best;
}

StructuralModel StructuralModel::Fit(const LatencyProfile& p) { return FitPoints(p.Points()); }

StructuralModel StructuralModel::FitPoints(const std::vector<ProfilePoint>& points) {
  StructuralModel m;
  double top_sm = 0;
  for (const ProfilePoint& x : points) {
    if (x.quota_percent == 100.0) {
      top_sm = std::max(top_sm, x.sm_percent);
      if (std::find(m.batches_.begin(), m.batches_.end(), x.batch) == m.batches_.end()) m.batches_.push_back(x.batch);
    }
  }
  std::sort(m.batches_.begin(), m.batches_.end());
  for (int b : m.batches_) {
    std::vector<std::pair<double, double>> sweep, quota;  // (sm, L) at q = 100; (q, L) at top SM
    for (const ProfilePoint& x : points) {
      if (x.batch != b) continue;
      if (x.quota_percent == 100.0) sweep.push_back({x.sm_percent, x.latency_ms});
      if (x.sm_percent == top_sm) quota.push_back({x.quota_percent, x.latency_ms});
    }
    std::sort(sweep.begin(), sweep.end());
    std::sort(quota.begin(), quota.end());
    std::vector<double> xs, ys, qs, ls;
    for (auto [sm, l] : sweep) xs.push_back(sm), ys.push_back(l);
    for (auto [q, l] : quota) qs.push_back(q), ls.push_back(l);
    m.curves_.push_back(SmCurve::Fit(xs, ys));
    // Latency never grows with the quota: smooth the measured noise away.
    m.quotas_.push_back(qs);
    m.quota_rows_.push_back(NonIncreasing(ls));
  }
  return m;
}

bool StructuralModel::has_quota() const {
  for (const auto& q : quotas_) {
    if (q.size() > 1) return true;
  }
  return false;
}

template <typename F>
double StructuralModel::AlongBatch(double batch, F at_index) const {
  const size_t nb = batches_.size();
  if (nb == 1 || batch <= batches_.front()) return at_index(0);
  if (batch >= batches_.back()) {
    const double last = at_index(nb - 1);
    const double slope = (last - at_index(nb - 2)) / (batches_[nb - 1] - batches_[nb - 2]);
    return last + std::max(0.0, slope) * (batch - batches_.back());
  }
  const size_t hi = static_cast<size_t>(std::upper_bound(batches_.begin(), batches_.end(), batch) - batches_.begin());
  const size_t lo = hi - 1;
  const double w = (batch - batches_[lo]) / (batches_[hi] - batches_[lo]);
  return (1 - w) * at_index(lo) + w * at_index(hi);
}

double StructuralModel::SoloMs(double batch, double sm_percent) const {
  return AlongBatch(batch, [&](size_t i) { return curves_[i].At(sm_percent); });
}

double StructuralModel::QuotaMs(size_t b, double q) const {
  const std::vector<double>& levels = quotas_[b];
  if (levels.empty()) return 0.0;
  if (q < levels.front()) return quota_rows_[b].front() * levels.front() / q;
  return Interpolate(levels, quota_rows_[b], q);
}

double StructuralModel::PredictMs(double batch, double sm_percent, double quota_percent) const {
  if (!has_quota() || quota_percent >= 100.0) return SoloMs(batch, sm_percent);
  return AlongBatch(batch, [&](size_t i) { return std::max(curves_[i].At(sm_percent), QuotaMs(i, quota_percent)); });
}

}  // namespace gpuslice
