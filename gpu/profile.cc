#include "gpu/profile.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "gpu/specs.h"
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
  // The SM share is a percentage, or a count of SMs of the named GPU (calibration output).
  const bool by_count = CsvReader::FindColumn(header, "sm_percent") < 0 && CsvReader::FindColumn(header, "sm_count") >= 0;
  const char* required[] = {"model", "gpu", "batch", by_count ? "sm_count" : "sm_percent", "quota_percent", "latency_ms"};
  int col[6];
  for (int i = 0; i < 6; ++i) {
    col[i] = CsvReader::FindColumn(header, required[i]);
    if (col[i] < 0) {
      throw LineError(path, csv.line_number(), std::string("missing column '") + required[i] + "'");
    }
  }
  // Optional: half the interquartile range of repeated measurements (gpuslice fit's output).
  const int spread_col = CsvReader::FindColumn(header, "spread_ms");
  std::vector<double> relative_spreads;
  const GpuSpec* gpu_spec = nullptr;
  const size_t min_fields = static_cast<size_t>(*std::max_element(col, col + 6)) + 1;
  while (csv.Next()) {
    csv.RequireFields(min_fields);
    const auto& f = csv.fields();
    // "<column> must be ... (got <text>)": the column is named first.
    auto bad = [&](const char* column, const std::string& what) {
      return LineError(path, csv.line_number(), std::string(column) + " " + what);
    };
    // A number of a column, finite and in its range; `what` says the range.
    auto number = [&](int i, const char* column, bool (*ok)(double), const char* what) {
      const double v = csv.Double(static_cast<size_t>(i), column);
      if (!ok(v)) throw bad(column, "must be " + std::string(what) + " (got " + std::string(f[i]) + ")");
      return v;
    };
    std::string model(f[col[0]]), gpu(f[col[1]]);
    if (model.empty() || gpu.empty()) {
      throw bad(model.empty() ? "model" : "gpu", "must not be empty");
    }
    if (!IsValidUtf8(model) || !IsValidUtf8(gpu)) {
      throw bad(IsValidUtf8(model) ? "gpu" : "model", "is not valid UTF-8");
    }
    if (p.model_.empty()) {
      p.model_ = model;
      p.gpu_ = gpu;
    } else if (model != p.model_ || gpu != p.gpu_) {
      throw LineError(path, csv.line_number(),
                      "profile mixes models or GPUs ('" + model + "'/'" + gpu + "' after '" +
                          p.model_ + "'/'" + p.gpu_ + "'); use one file per model and GPU");
    }
    // Checked as a 64-bit integer before it is narrowed: 4294967298 is out of range, not 2.
    const std::string_view batch_text = f[col[2]];
    long long batch = 0;
    const auto [batch_end, batch_ec] = std::from_chars(batch_text.data(), batch_text.data() + batch_text.size(), batch);
    if (batch_text.empty() || batch_end != batch_text.data() + batch_text.size() ||
        (batch_ec != std::errc() && batch_ec != std::errc::result_out_of_range)) {
      throw LineError(path, csv.line_number(), "column 'batch': '" + std::string(batch_text) + "' is not an integer");
    }
    if (batch_ec == std::errc::result_out_of_range || batch < 1 || batch > kMaxProfileBatch) {
      throw bad("batch", (batch_ec == std::errc() && batch < 1 ? std::string("must be >= 1")
                                                                 : "must be at most " + std::to_string(kMaxProfileBatch)) +
                             " (got " + std::string(batch_text) + ")");
    }
    double sm;
    if (by_count) {
      if (gpu_spec == nullptr) gpu_spec = FindGpuSpec(gpu);
      if (gpu_spec == nullptr) {
        throw LineError(path, csv.line_number(),
                        "sm_count needs a known GPU to convert to a share; '" + gpu + "' is not one (" +
                            GpuCatalogNames() + ")");
      }
      const double count = csv.Double(col[3], "sm_count");
      if (!(count >= 1 && count <= gpu_spec->sm_count)) {
        throw bad("sm_count", "must be in [1, " + std::to_string(gpu_spec->sm_count) + "] for " + gpu + " (got " +
                                  std::string(f[col[3]]) + ")");
      }
      sm = 100.0 * count / gpu_spec->sm_count;
    } else {
      sm = number(col[3], "sm_percent", [](double v) { return v > 0 && v <= 100; }, "in (0, 100]");
    }
    const double quota = number(col[4], "quota_percent", [](double v) { return v > 0 && v <= 100; }, "in (0, 100]");
    const double latency = number(col[5], "latency_ms", [](double v) { return v > 0 && v <= kMaxProfileLatencyMs; },
                                  "> 0 and at most 1e9");
    if (spread_col >= 0) {
      csv.RequireFields(static_cast<size_t>(spread_col) + 1);
      const double spread = number(spread_col, "spread_ms", [](double v) { return v >= 0 && v <= kMaxProfileLatencyMs; },
                                   ">= 0 and at most 1e9");
      relative_spreads.push_back(spread / latency);
    }
    auto key = std::make_tuple(static_cast<int>(batch), sm, quota);
    if (!p.points_.emplace(key, latency).second) {
      throw LineError(path, csv.line_number(), "duplicate point (batch, sm_percent, quota_percent)");
    }
  }
  p.Index(path);
  if (!relative_spreads.empty()) {
    // Half the IQR of a normal is 0.6745 sigma; the median over points resists outliers.
    std::nth_element(relative_spreads.begin(), relative_spreads.begin() + static_cast<long>(relative_spreads.size() / 2),
                     relative_spreads.end());
    p.measured_cv_ = relative_spreads[relative_spreads.size() / 2] / 0.6745;
  }
  return p;
}

LatencyProfile LatencyProfile::FromPoints(const std::string& where, const std::string& model, const std::string& gpu,
                                          const std::vector<ProfilePoint>& points) {
  LatencyProfile p;
  p.path_ = where;
  p.model_ = model;
  p.gpu_ = gpu;
  for (const ProfilePoint& x : points) {
    if (x.batch < 1 || !(x.sm_percent > 0 && x.sm_percent <= 100) || !(x.quota_percent > 0 && x.quota_percent <= 100) ||
        !(x.latency_ms > 0)) {
      throw InputError(where + ": a point is out of range");
    }
    p.points_[std::make_tuple(x.batch, x.sm_percent, x.quota_percent)] = x.latency_ms;
  }
  p.Index(where);
  return p;
}

std::vector<ProfilePoint> LatencyProfile::Points() const {
  std::vector<ProfilePoint> out;
  for (const auto& [key, latency] : points_) {
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), latency});
  }
  return out;
}

void LatencyProfile::Index(const std::string& path) {
  LatencyProfile& p = *this;
  std::set<int> batches;
  std::set<double> sms, quotas;
  for (const auto& [key, latency] : points_) {
    if (std::get<2>(key) == 100.0) {
      batches.insert(std::get<0>(key));
      sms.insert(std::get<1>(key));
    }
    quotas.insert(std::get<2>(key));
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
  // The quotas at which the whole batch × SM grid was measured.
  for (double q : quotas) {
    bool complete = true;
    for (int b : p.batches_) {
      for (double sm : p.sm_percents_) complete = complete && p.MeasuredMs(b, sm, q) > 0;
    }
    if (complete) p.quota_percents_.push_back(q);
  }
  p.cube_.clear();
  for (double q : p.quota_percents_) {
    for (int b : p.batches_) {
      for (double sm : p.sm_percents_) p.cube_.push_back(p.MeasuredMs(b, sm, q));
    }
  }
}

double LatencyProfile::MeasuredMs(int batch, double sm_percent, double quota_percent) const {
  auto it = points_.find(std::make_tuple(batch, sm_percent, quota_percent));
  return it == points_.end() ? -1.0 : it->second;
}

double LatencyProfile::AtGrid(size_t batch_index, size_t sm_index) const {
  return full_quota_grid_[batch_index * sm_percents_.size() + sm_index];
}

double LatencyProfile::AtCube(size_t b, size_t s, size_t q) const {
  return cube_[(q * batches_.size() + b) * sm_percents_.size() + s];
}

double LatencyProfile::GridMs(double batch, double sm_percent, double quota_percent) const {
  const std::vector<double>& qs = quota_percents_;
  double scale = 1.0;
  if (quota_percent < qs.front()) {
    scale = qs.front() / quota_percent;
    quota_percent = qs.front();
  }
  size_t qi = 0, si = 0;  // not structured bindings: clang 14 cannot capture those in a lambda
  double wq = 0, ws = 0;
  std::tie(qi, wq) = Bracket(qs, quota_percent);
  std::tie(si, ws) = Bracket(sm_percents_, sm_percent);
  const size_t qh = qs.size() > 1 ? qi + 1 : qi;
  const size_t sh = sm_percents_.size() > 1 ? si + 1 : si;
  // Bilinear in (sm, quota) at each batch index, then along the batch like LatencyFullQuotaMs.
  auto at_batch = [&](size_t b) {
    const double lo = (1 - ws) * AtCube(b, si, qi) + ws * AtCube(b, sh, qi);
    const double hi = (1 - ws) * AtCube(b, si, qh) + ws * AtCube(b, sh, qh);
    return (1 - wq) * lo + wq * hi;
  };
  const size_t nb = batches_.size();
  double v;
  if (nb == 1 || batch <= batches_.front()) {
    v = at_batch(0);
  } else if (batch >= batches_.back()) {
    const double last = at_batch(nb - 1);
    const double slope = (last - at_batch(nb - 2)) / (batches_[nb - 1] - batches_[nb - 2]);
    v = last + std::max(0.0, slope) * (batch - batches_.back());
  } else {
    const size_t hi = static_cast<size_t>(std::upper_bound(batches_.begin(), batches_.end(), batch) - batches_.begin());
    const size_t lo = hi - 1;
    const double w = (batch - batches_[lo]) / (batches_[hi] - batches_[lo]);
    v = (1 - w) * at_batch(lo) + w * at_batch(hi);
  }
  return v * scale;
}

double LatencyProfile::LatencyFullQuotaMs(double batch, double sm_percent) const {
  size_t s = 0;  // not a structured binding: clang 14 cannot capture one in a lambda
  double ws = 0;
  std::tie(s, ws) = Bracket(sm_percents_, sm_percent);
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
