// SimulatedDevice: a CalibrationDevice without a GPU, for testing the GPU backend and the
// calibration end to end. Its timings follow a known model, `latency_ms(model, batch,
// sms)` for a whole inference on a partition of `sms` SMs, split evenly over 8 launch units;
// it runs in accelerated wall time: a simulated ns lasts `time_scale` wall ns. Work queued on
// a partition runs in order after the work before it; partitions do not slow each other.
//
// Thread-safe as the backend uses it: one thread drives an inference at a time.
#ifndef GPUSLICE_GPU_BACKEND_SIMULATED_DEVICE_H_
#define GPUSLICE_GPU_BACKEND_SIMULATED_DEVICE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gpu/calibrate/device.h"

namespace gpuslice {

class SimulatedDevice final : public CalibrationDevice {
 public:
  using LatencyMs = std::function<double(const std::string& model, int batch, int sm_count)>;
  // REQUIRES: sm_count >= group_sms >= 1; time_scale > 0.
  SimulatedDevice(int sm_count, int group_sms, double time_scale, LatencyMs latency_ms);

  const DeviceInfo& info() const override { return info_; }
  std::vector<int> PartitionSizes() const override;
  std::unique_ptr<Partition> OpenPartition(int sm_count) override;
  std::pair<std::unique_ptr<Partition>, std::unique_ptr<Partition>> OpenPair(int sm_count) override;
  int group_count() override { return info_.sm_count / group_sms_; }
  int group_sms() override { return group_sms_; }
  std::unique_ptr<Partition> OpenGroups(const std::vector<int>& groups) override;

  // Simulated ns since the device was made.
  int64_t NowNs() const;
  void SleepUntil(int64_t t_ns) const;

 private:
  DeviceInfo info_;
  int group_sms_;
  double time_scale_;
  LatencyMs latency_ms_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_BACKEND_SIMULATED_DEVICE_H_
