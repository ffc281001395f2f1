// CalibrationDevice: what the calibrator needs from a GPU, so that the measuring loop
// (gpu/calibrate/calibrator.h) is the same for the CUDA backend and for the simulated device
// that tests it.
//
// A device hands out SM partitions (on CUDA: green contexts); a partition prepares one
// model at one batch size (buffers, kernel choices) as an Inference: a sequence of launch
// units that the token gate can drive (GatedStream) and that times itself on the GPU.
#ifndef GPUSLICE_GPU_CALIBRATE_DEVICE_H_
#define GPUSLICE_GPU_CALIBRATE_DEVICE_H_

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/calibrate/token_gate.h"
#include "gpu/calibrate/zoo.h"

namespace gpuslice {

// No usable GPU here (no driver, no device, or a build without CUDA). The command line
// prints the message on one line and exits with kExitNoGpu.
class NoGpuError : public std::runtime_error {
 public:
  explicit NoGpuError(const std::string& message) : std::runtime_error(message) {}
};
inline constexpr int kExitNoGpu = 69;  // EX_UNAVAILABLE

// A CUDA, cuBLAS or cuDNN call failed, or a library is missing: the message names the call.
class GpuError : public std::runtime_error {
 public:
  explicit GpuError(const std::string& message) : std::runtime_error(message) {}
};

struct DeviceInfo {
  std::string name;                 // e.g. "NVIDIA H100 80GB HBM3"
  std::string profile_name;         // the catalog's name, e.g. "h100-sxm"; "" when unknown
  int sm_count = 0;
  int min_partition_sms = 0;        // the smallest SM partition the hardware makes
  int partition_alignment_sms = 0;  // partitions are multiples of this
  double memory_gib = 0;
  double memory_bandwidth_gbps = 0; // peak, from the bus width and memory clock
  nlohmann::ordered_json details;   // driver, runtime and library versions, clocks, ...
};

class Inference : public GatedStream {
 public:
  // Launch units, in order (a unit is one zoo operation: one or a few kernels).
  virtual int units() const = 0;
  // Runs the whole inference at full quota `count` times back to back; returns each run's
  // GPU time in ms (CUDA events around it).
  virtual std::vector<double> TimeFull(int count) = 0;
  // Each unit's GPU time in ns at full quota (events between units; medians of `count` runs).
  virtual std::vector<int64_t> TimeUnits(int count) = 0;
  // The elapsed GPU time in ms from the first unit launched to the last finished, of the
  // latest run driven through Launch() (by GatedRun).
  virtual double LastRunMs() = 0;
  // After a run: "" if the model's output is sane (finite, not all zero), else what is wrong.
  virtual std::string CheckOutput() { return ""; }
  // How units are launched ("cuda graphs", or "eager" and why), for the record.
  virtual std::string LaunchMode() const { return "eager"; }
  // Runs the inference back to back until `stop`, setting `started` once work is on the
  // GPU: the load beside a co-located measurement, which must keep its partition busy
  // without gaps between inferences. Called on its own thread.
  virtual void RunInBackground(const std::atomic<bool>& stop, std::atomic<bool>& started) {
    TimeFull(1);
    started = true;
    while (!stop.load(std::memory_order_relaxed)) TimeFull(1);
  }
};

class Partition {
 public:
  virtual ~Partition() = default;
  virtual int sm_count() const = 0;  // the SMs it really got
  // REQUIRES: batch >= 1. Throws GpuError if the model does not fit.
  virtual std::unique_ptr<Inference> Prepare(const ZooModel& model, int batch) = 0;
};

class CalibrationDevice {
 public:
  virtual ~CalibrationDevice() = default;
  virtual const DeviceInfo& info() const = 0;
  // The SM counts a single partition can have, ascending; the last is the whole GPU.
  virtual std::vector<int> PartitionSizes() const = 0;
  // One partition of (at least) `sm_count` SMs; the whole GPU when it equals info().sm_count.
  virtual std::unique_ptr<Partition> OpenPartition(int sm_count) = 0;
  // Two disjoint partitions of `sm_count` SMs each, to run side by side.
  virtual std::pair<std::unique_ptr<Partition>, std::unique_ptr<Partition>> OpenPair(int sm_count) = 0;
  // The GPU's state now (current clocks, temperature, power), for the record; {} if unknown.
  virtual nlohmann::ordered_json Snapshot() { return nlohmann::ordered_json::object(); }

  // For partitions that come and go without overlapping (the GPU backend): the GPU's SMs as
  // `group_count()` disjoint groups of `group_sms()` SMs each (on CUDA, one split into groups
  // of the smallest partition size), and one partition made of a set of them.
  // REQUIRES: each group index in [0, group_count()), no index in two open partitions.
  virtual int group_count() { return 0; }
  virtual int group_sms() { return 0; }
  virtual std::unique_ptr<Partition> OpenGroups(const std::vector<int>& /*groups*/) {
    throw GpuError("this device cannot make partitions of SM groups");
  }
};

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_DEVICE_H_
