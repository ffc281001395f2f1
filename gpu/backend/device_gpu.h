// DeviceGpu: the executor's ExternalGpu on a CalibrationDevice: the CUDA backend on a local
// GPU (`gpuslice run --backend cuda`), or a simulated device that follows a known timing
// model in accelerated time (its tests, and `--backend simulated-device`).
//
// How a scenario runs on the device (docs/validation-gpu.md):
//  - one local GPU stands for the scenario's one GPU; a slice of s of the scenario GPU's S
//    SMs gets s x (device SMs / S) SMs, made of disjoint SM groups (device.group_sms() each,
//    8 on Hopper): rounded up while free groups allow, else down (at least one group), so
//    partitions never overlap; every rounding is reported;
//  - instances of one partition share its green context and take turns by batch (a FIFO
//    lock held for a batch), each through its own token gate (gpu/calibrate/token_gate.h)
//    at its quota and the scenario's token window: the simulator's quota and SM-gate rules;
//  - each scenario model runs the zoo model of the same name (case, '-' and '_' ignored);
//    an instance prepares its model (CUDA graphs, cuDNN's choices) on its own thread when
//    it starts, at every batch size up to its largest when that is at most 16, else at
//    1..16, the powers of two above and the largest; a batch of n runs on the smallest
//    prepared size >= n (padded, as inference servers' optimisation profiles do; reported);
//  - interference between partitions and noise are the hardware's.
//
// Thread-safe for the executor's calls; each instance has a worker thread.
#ifndef GPUSLICE_GPU_BACKEND_DEVICE_GPU_H_
#define GPUSLICE_GPU_BACKEND_DEVICE_GPU_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/calibrate/device.h"
#include "gpu/calibrate/zoo.h"
#include "sim/external_gpu.h"

namespace gpuslice {

// The zoo model each scenario model runs: the zoo file whose name equals the model's with
// case, '-' and '_' ignored. Throws InputError naming the model and the zoo's models.
std::vector<ZooModel> ZooModelsFor(const std::vector<std::string>& model_names, const std::string& zoo_dir, int sequence);

class DeviceGpu final : public ExternalGpu {
 public:
  // REQUIRES: zoo_models[m] is scenario model m's; window_ms > 0; `device` outlives this.
  DeviceGpu(CalibrationDevice& device, std::vector<ZooModel> zoo_models, double window_ms);
  // Waits for every instance's thread.
  ~DeviceGpu() override;

  void StartInstance(const ExternalInstance& instance) override;
  void SetQuota(int instance, double quota) override;
  void SetMaxBatch(int instance, int max_batch) override;
  void RunBatch(int instance, int batch_size, std::function<void()> done) override;
  void StopInstance(int instance) override;
  void WaitPrepared() override;

  // What happened that a reader of the results must know (roundings, padded batches, launch
  // modes), and the GPU errors met (a batch whose GPU work failed still ends, at once).
  std::vector<std::string> notes() const;
  std::vector<std::string> errors() const;

 private:
  struct PartitionSlot;
  struct Worker;
  std::shared_ptr<PartitionSlot> AcquirePartition(const ExternalInstance& instance);
  void ReleaseGroups(const std::vector<int>& groups);
  void Note(const std::string& note);
  void Error(const std::string& error);
  void RunWorker(Worker* worker);

  CalibrationDevice& device_;
  const std::vector<ZooModel> zoo_models_;
  const double window_ms_;
  mutable std::mutex mu_;           // partitions_, free_groups_, workers_, notes_, errors_
  std::mutex device_mu_;            // one partition opened or model prepared at a time
  std::map<std::pair<int, int>, std::weak_ptr<PartitionSlot>> partitions_;
  std::vector<bool> group_used_;
  std::map<int, std::unique_ptr<Worker>> workers_;
  std::vector<std::string> notes_, errors_;
  int preparing_ = 0;  // instances whose worker has not finished preparing
  std::condition_variable prepared_cv_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_BACKEND_DEVICE_GPU_H_
