#include "gpu/backend/simulated_device.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace gpuslice {
namespace {

constexpr int kUnits = 8;

class SimulatedInference final : public Inference {
 public:
  SimulatedInference(const SimulatedDevice& device, double latency_ms) : device_(device) {
    const int64_t total = static_cast<int64_t>(std::llround(latency_ms * 1e6));
    for (int i = 0; i < kUnits; ++i) unit_ns_.push_back(total / kUnits + (i < total % kUnits ? 1 : 0));
  }
  int units() const override { return kUnits; }
  std::vector<double> TimeFull(int count) override {
    std::vector<double> out;
    for (int c = 0; c < count; ++c) {
      LaunchRange(0, kUnits);
      Synchronize();
      out.push_back(LastRunMs());
    }
    return out;
  }
  std::vector<int64_t> TimeUnits(int) override { return unit_ns_; }
  double LastRunMs() override { return static_cast<double>(last_end_ - first_start_) / 1e6; }
  int64_t NowNs() override { return device_.NowNs(); }
  void Launch(int index) override {
    const int64_t start = std::max(gpu_free_, device_.NowNs());
    if (index == 0) first_start_ = start;
    gpu_free_ = start + unit_ns_[static_cast<size_t>(index)];
    if (index == kUnits - 1) last_end_ = gpu_free_;
  }
  int64_t Synchronize() override {
    device_.SleepUntil(gpu_free_);
    return device_.NowNs();
  }
  void SleepUntil(int64_t t_ns) override { device_.SleepUntil(t_ns); }

 private:
  const SimulatedDevice& device_;
  std::vector<int64_t> unit_ns_;
  int64_t gpu_free_ = 0, first_start_ = 0, last_end_ = 0;
};

class SimulatedPartition final : public Partition {
 public:
  SimulatedPartition(const SimulatedDevice& device, int sms, const SimulatedDevice::LatencyMs& latency_ms)
      : device_(device), sms_(sms), latency_ms_(latency_ms) {}
  int sm_count() const override { return sms_; }
  std::unique_ptr<Inference> Prepare(const ZooModel& model, int batch) override {
    return std::make_unique<SimulatedInference>(device_, latency_ms_(model.name(), batch, sms_));
  }

 private:
  const SimulatedDevice& device_;
  int sms_;
  const SimulatedDevice::LatencyMs& latency_ms_;
};

}  // namespace

SimulatedDevice::SimulatedDevice(int sm_count, int group_sms, double time_scale, LatencyMs latency_ms)
    : group_sms_(group_sms), time_scale_(time_scale), latency_ms_(std::move(latency_ms)),
      start_(std::chrono::steady_clock::now()) {
  info_.name = "simulated device";
  info_.sm_count = sm_count;
  info_.min_partition_sms = group_sms;
  info_.partition_alignment_sms = group_sms;
  info_.details = {{"time_scale", time_scale}};
}

std::vector<int> SimulatedDevice::PartitionSizes() const {
  std::vector<int> sizes;
  for (int s = group_sms_; s < info_.sm_count; s += group_sms_) sizes.push_back(s);
  sizes.push_back(info_.sm_count);
  return sizes;
}

std::unique_ptr<Partition> SimulatedDevice::OpenPartition(int sm_count) {
  return std::make_unique<SimulatedPartition>(*this, std::min(sm_count, info_.sm_count), latency_ms_);
}

std::pair<std::unique_ptr<Partition>, std::unique_ptr<Partition>> SimulatedDevice::OpenPair(int sm_count) {
  return {OpenPartition(sm_count), OpenPartition(sm_count)};
}

std::unique_ptr<Partition> SimulatedDevice::OpenGroups(const std::vector<int>& groups) {
  return std::make_unique<SimulatedPartition>(*this, static_cast<int>(groups.size()) * group_sms_, latency_ms_);
}

int64_t SimulatedDevice::NowNs() const {
  const double wall_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_).count();
  return static_cast<int64_t>(wall_ns / time_scale_);
}

void SimulatedDevice::SleepUntil(int64_t t_ns) const {
  const auto wall = start_ + std::chrono::nanoseconds(static_cast<int64_t>(std::llround(static_cast<double>(t_ns) * time_scale_)));
  std::this_thread::sleep_until(wall);
}

}  // namespace gpuslice
