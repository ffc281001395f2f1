// LatencyProfile: a measured grid of solo inference latencies for one model on one GPU type.
//
// File format (CSV with a header; columns in any order, extra columns ignored):
//   model, gpu, batch, sm_percent, quota_percent, latency_ms
// Every row is one (batch, SM share, time quota) point, latency in milliseconds. Instead of
// sm_percent a file may give `sm_count`, SMs of the GPU named in the gpu column (a catalog
// name, gpu/specs.h), as calibration on partitions of whole SMs measures them. An optional
// `spread_ms` column (half the interquartile range of repeated measurements, as `gpuslice
// fit` writes it) gives the profile's measured noise. Other columns are ignored. A profile must hold the full (batch ×
// sm_percent) grid at quota_percent = 100; when it also holds that grid at every measured
// quota (a full cube, as the V100 profiles do), GridMs interpolates in all three. Loading
// validates every row and raises InputError with "file:line: <column> must be ... (got x)":
// batch an integer in [1, kMaxProfileBatch], sm_percent and quota_percent in (0, 100], sm_count in
// [1, the GPU's SMs], latency_ms in (0, kMaxProfileLatencyMs], spread_ms in [0, that], model
// and gpu non-empty UTF-8. The file is read with CsvReader (a byte-order mark, CRLF and, in
// the simulator, compressed files are fine).
#ifndef GPUSLICE_GPU_PROFILE_H_
#define GPUSLICE_GPU_PROFILE_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace gpuslice {

// The largest batch a profile may hold, and the longest latency (1e9 ms, about 11.6 days).
inline constexpr long long kMaxProfileBatch = 65536;
inline constexpr double kMaxProfileLatencyMs = 1e9;

struct ProfilePoint {
  int batch;
  double sm_percent;
  double quota_percent;
  double latency_ms;
};

class LatencyProfile {
 public:
  // Throws InputError on any malformed input.
  static LatencyProfile Load(const std::string& path);
  // A profile from points already in memory (a subset of another, for instance); `where`
  // names it in errors. Throws InputError as Load does.
  static LatencyProfile FromPoints(const std::string& where, const std::string& model, const std::string& gpu,
                                   const std::vector<ProfilePoint>& points);

  std::vector<ProfilePoint> Points() const;
  // Measured quotas (percent) at which the whole batch × SM grid exists, ascending; always
  // holds 100.
  const std::vector<double>& quota_percents() const { return quota_percents_; }
  bool has_quota_grid() const { return quota_percents_.size() > 1; }

  // Latency interpolated linearly in batch, SM share and quota over the grid. Outside it:
  // the SM share clamps to the measured range, the batch follows LatencyFullQuotaMs, and
  // below the smallest measured quota the latency grows as 1/quota.
  // REQUIRES: has_quota_grid(); batch >= 1; sm_percent > 0; 0 < quota_percent <= 100.
  double GridMs(double batch, double sm_percent, double quota_percent) const;

  const std::string& model() const { return model_; }
  const std::string& gpu() const { return gpu_; }
  const std::string& path() const { return path_; }
  const std::vector<int>& batches() const { return batches_; }
  const std::vector<double>& sm_percents() const { return sm_percents_; }
  size_t point_count() const { return points_.size(); }

  // Latency at full quota, interpolated linearly in batch and SM share. Outside the
  // measured SM range the nearest SM share is used; above the largest measured batch the
  // latency grows along the last batch segment's slope (never decreasing).
  // REQUIRES: batch >= 1, sm_percent > 0.
  double LatencyFullQuotaMs(double batch, double sm_percent) const;

  // The run-to-run coefficient of variation the profile measured: the median over points of
  // spread_ms / latency_ms / 0.6745 (half the IQR of a normal); 0 when it has no spread_ms.
  double measured_cv() const { return measured_cv_; }

  // The measured point, or a negative value if it was not measured.
  double MeasuredMs(int batch, double sm_percent, double quota_percent) const;

 private:
  double AtGrid(size_t batch_index, size_t sm_index) const;
  double AtCube(size_t batch_index, size_t sm_index, size_t quota_index) const;
  void Index(const std::string& where);

  std::string path_;
  std::string model_;
  std::string gpu_;
  std::vector<int> batches_;
  std::vector<double> sm_percents_;
  std::vector<double> quota_percents_;
  std::vector<double> full_quota_grid_;  // [batch_index * sm_count + sm_index]
  std::vector<double> cube_;             // [(quota_index * batches + batch_index) * sms + sm_index]
  std::map<std::tuple<int, double, double>, double> points_;
  double measured_cv_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PROFILE_H_
