// LatencyProfile: a measured grid of solo inference latencies for one model on one GPU type.
//
// File format (CSV with a header; columns in any order, extra columns ignored):
//   model, gpu, batch, sm_percent, quota_percent, latency_ms
// Every row is one (batch, SM share, time quota) point, latency in milliseconds. A profile
// must hold the full (batch × sm_percent) grid at quota_percent = 100, which is what the
// foundation's PerfModel interpolates. Loading validates every row and raises InputError
// with "file:line: problem".
#ifndef GPUSLICE_GPU_PROFILE_H_
#define GPUSLICE_GPU_PROFILE_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace gpuslice {

class LatencyProfile {
 public:
  // Throws InputError on any malformed input.
  static LatencyProfile Load(const std::string& path);

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

  // The measured point, or a negative value if it was not measured.
  double MeasuredMs(int batch, double sm_percent, double quota_percent) const;

 private:
  double AtGrid(size_t batch_index, size_t sm_index) const;

  std::string path_;
  std::string model_;
  std::string gpu_;
  std::vector<int> batches_;
  std::vector<double> sm_percents_;
  std::vector<double> full_quota_grid_;  // [batch_index * sm_count + sm_index]
  std::map<std::tuple<int, double, double>, double> points_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_PROFILE_H_
