#include "gpu/profile.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/util/csv.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

// Index i such that grid[i] <= x <= grid[i+1], clamped to the grid; and the weight of i+1.
std::pair<size_t, double> Bracket(const std::vector<double>& grid, double x) {
  if (grid.size() == 1 || x <= grid.front()) return {0, 0.0};
  if (x >= grid.back()) return {grid.size() - 2, 1.0};
  size_t hi = static_cast<size_t>(std::upper_bound(grid.begin(), grid.end(), x) - grid.begin());
  size_t lo = hi - 1;
  return {lo, (x - grid[lo]) / (grid[hi] - grid[lo])};
}

}  // namespace

LatencyProfile LatencyProfile::Load(const std::string& path) {
  LatencyProfile p;
  p.path_ = path;
  CsvReader csv(path);
  if (!csv.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  const char* required[] = {"model", "gpu", "batch", "sm_percent", "quota_percent", "latency_ms"};
  int col[6];
  for (int i = 0; i < 6; ++i) {
    col[i] = CsvReader::FindColumn(header, required[i]);
    if (col[i] < 0) {
      throw LineError(path, csv.line_number(), std::string("missing column '") + required[i] + "'");
    }
  }
  const size_t min_fields = static_cast<size_t>(*std::max_element(col, col + 6)) + 1;
  std::set<int> batches;
  std::set<double> sms;
  while (csv.Next()) {
    csv.RequireFields(min_fields);
    const auto& f = csv.fields();
    std::string model(f[col[0]]), gpu(f[col[1]]);
    if (p.model_.empty()) {
      p.model_ = model;
      p.gpu_ = gpu;
    } else if (model != p.model_ || gpu != p.gpu_) {
      throw LineError(path, csv.line_number(),
                      "profile mixes models or GPUs ('" + model + "'/'" + gpu + "' after '" +
                          p.model_ + "'/'" + p.gpu_ + "'); use one file per model and GPU");
    }
    long long batch = csv.Int(col[2], "batch");
    double sm = csv.Double(col[3], "sm_percent");
    double quota = csv.Double(col[4], "quota_percent");
    double latency = csv.Double(col[5], "latency_ms");
    if (batch < 1) throw LineError(path, csv.line_number(), "batch must be >= 1");
    if (!(sm > 0 && sm <= 100)) throw LineError(path, csv.line_number(), "sm_percent must be in (0, 100]");
    if (!(quota > 0 && quota <= 100)) throw LineError(path, csv.line_number(), "quota_percent must be in (0, 100]");
    if (!(latency > 0)) throw LineError(path, csv.line_number(), "latency_ms must be > 0");
    auto key = std::make_tuple(static_cast<int>(batch), sm, quota);
    if (!p.points_.emplace(key, latency).second) {
      throw LineError(path, csv.line_number(), "duplicate point (batch, sm_percent, quota_percent)");
    }
    if (quota == 100.0) {
      batches.insert(static_cast<int>(batch));
      sms.insert(sm);
    }
  }
  if (p.points_.empty()) throw InputError(path + ": no data rows");
  p.batches_.assign(batches.begin(), batches.end());
  p.sm_percents_.assign(sms.begin(), sms.end());
  if (p.batches_.empty()) throw InputError(path + ": no rows at quota_percent 100");
  p.full_quota_grid_.resize(p.batches_.size() * p.sm_percents_.size());
  for (size_t b = 0; b < p.batches_.size(); ++b) {
    for (size_t s = 0; s < p.sm_percents_.size(); ++s) {
      double v = p.MeasuredMs(p.batches_[b], p.sm_percents_[s], 100.0);
      if (v < 0) {
        throw InputError(path + ": incomplete grid at quota_percent 100: no row for batch " +
                         std::to_string(p.batches_[b]) + ", sm_percent " +
                         std::to_string(p.sm_percents_[s]));
      }
      p.full_quota_grid_[b * p.sm_percents_.size() + s] = v;
    }
  }
  return p;
}

double LatencyProfile::MeasuredMs(int batch, double sm_percent, double quota_percent) const {
  auto it = points_.find(std::make_tuple(batch, sm_percent, quota_percent));
  return it == points_.end() ? -1.0 : it->second;
}

double LatencyProfile::AtGrid(size_t batch_index, size_t sm_index) const {
  return full_quota_grid_[batch_index * sm_percents_.size() + sm_index];
}

double LatencyProfile::LatencyFullQuotaMs(double batch, double sm_percent) const {
  auto [s, ws] = Bracket(sm_percents_, sm_percent);
  const size_t s_hi = sm_percents_.size() > 1 ? s + 1 : s;
  auto at_batch_index = [&](size_t b) {
    return (1 - ws) * AtGrid(b, s) + ws * AtGrid(b, s_hi);
  };
  const size_t nb = batches_.size();
  if (nb == 1) return at_batch_index(0);
  if (batch <= batches_.front()) return at_batch_index(0);
  if (batch >= batches_.back()) {
    double last = at_batch_index(nb - 1);
    double slope = (last - at_batch_index(nb - 2)) / (batches_[nb - 1] - batches_[nb - 2]);
    return last + std::max(0.0, slope) * (batch - batches_.back());
  }
  size_t hi = static_cast<size_t>(std::upper_bound(batches_.begin(), batches_.end(), batch) -
                                  batches_.begin());
  size_t lo = hi - 1;
  double w = (batch - batches_[lo]) / (batches_[hi] - batches_[lo]);
  return (1 - w) * at_batch_index(lo) + w * at_batch_index(hi);
}

}  // namespace gpuslice
