// ExternalGpu: a GPU outside the simulation that runs the executor's batches for real (the
// CUDA backend, gpu/backend/), instead of the executor timing them with the PerfModel.
//
// The executor still forms batches, queues, drops, pre- and post-processes and meters as
// always; it hands each batch's GPU stage to the ExternalGpu and finishes the batch when
// `done` is called. The ExternalGpu knows nothing of the engine: `done` may be called on any
// thread (the executor posts it to the engine's RealTime).
#ifndef GPUSLICE_SIM_EXTERNAL_GPU_H_
#define GPUSLICE_SIM_EXTERNAL_GPU_H_

#include <functional>

namespace gpuslice {

// What the executor tells the ExternalGpu about an instance.
struct ExternalInstance {
  int instance = 0;
  int model = 0;
  int gpu = 0;
  int partition = 0;     // the cluster's partition index on that GPU
  int sm_count = 0;      // the partition's SMs
  int gpu_sm_count = 0;  // the simulated GPU's SMs
  double quota = 1.0;
  int max_batch = 1;
};

class ExternalGpu {
 public:
  virtual ~ExternalGpu() = default;
  // An instance was placed: prepare it (its partition, its model), off the caller's thread.
  virtual void StartInstance(const ExternalInstance& instance) = 0;
  // Its time quota changed: batches that start from now on run under it.
  virtual void SetQuota(int instance, double quota) = 0;
  // Its largest batch changed.
  virtual void SetMaxBatch(int instance, int max_batch) = 0;
  // Runs one batch of `batch_size` requests on the instance; returns at once and calls
  // `done` (on any thread) when the GPU finished it. REQUIRES: one batch at a time per instance.
  virtual void RunBatch(int instance, int batch_size, std::function<void()> done) = 0;
  // The instance is gone: release what it held once its batches are done.
  virtual void StopInstance(int instance) = 0;
  // Blocks until every instance started so far is prepared (before the clock starts, so
  // that the instances a policy places at time 0 are ready at time 0, as in the simulator).
  virtual void WaitPrepared() {}
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_EXTERNAL_GPU_H_
