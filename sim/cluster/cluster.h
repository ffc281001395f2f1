// Cluster: the GPUs of a scenario and the slices carved out of them, with the invariants of
// DESIGN.md enforced here, once, for every policy.
//
// A GPU is divided into SM partitions; partitions run side by side, so their SM counts sum
// to at most the GPU's SMs. Slices in one partition time-share it: each holds all of the
// partition's SMs for its time quota, and the quotas sum to at most 1. A whole GPU is one
// partition of all SMs holding one slice of quota 1. Memory of all slices fits the GPU.
// Any request that would break an invariant is refused with a reason and changes nothing.
//
// The cluster also meters cost as slices come and go: fractional (price × SM fraction ×
// quota × time held) and whole-GPU (price × time a GPU holds any slice), both per model
// (a shared GPU's whole-GPU time is split among its models by SM fraction × quota).
#ifndef GPUSLICE_SIM_CLUSTER_CLUSTER_H_
#define GPUSLICE_SIM_CLUSTER_CLUSTER_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gpu/specs.h"
#include "sim/cluster/accumulator.h"
#include "sim/engine/time.h"

namespace gpuslice {

struct Scenario;

struct SmPartition {
  int sm_count = 0;       // 0 once removed
  double quota_used = 0;  // sum of the quotas of its slices
  int slices = 0;
  // Its slices take turns by whole batches at the full partition (gpu-lets' temporal
  // sharing) rather than by token quotas; their quotas are then shares for cost only.
  bool whole_batches = false;
};

struct Gpu {
  int id = 0;
  int node = 0;
  const GpuSpec* spec = nullptr;
  double price_per_hour = 0;
  std::vector<SmPartition> partitions;
  std::vector<int> slices;  // live slice ids
  int sm_used = 0;          // SMs of live partitions
  long memory_used_mb = 0;

  bool empty() const { return slices.empty(); }
  int free_sm() const { return spec->sm_count - sm_used; }
  long free_memory_mb() const { return spec->memory_mb - memory_used_mb; }
};

struct Slice {
  int id = 0;
  int gpu = 0;
  int partition = 0;
  int sm_count = 0;
  double quota = 1.0;
  long memory_mb = 0;
  int model = 0;
  bool live = false;
  bool whole_batches = false;  // its partition's discipline (SmPartition::whole_batches)
};

struct SliceRequest {
  int gpu = 0;
  int partition = -1;  // -1: a new partition of `sm_count` SMs; else join this partition
  int sm_count = 0;    // with partition >= 0, must equal the partition's SMs (0 = take them)
  double quota = 1.0;
  long memory_mb = 0;
  int model = 0;
  bool whole_batches = false;  // a new partition's discipline; joining must match it
};

// Per-model meters, in seconds of the unit named.
struct CostMeters {
  TimeIntegral fractional_gpu;  // GPU fraction × quota
  TimeIntegral fractional_usd;
  TimeIntegral whole_gpu;       // GPUs held, shared among the models on each
  TimeIntegral whole_usd;
  TimeIntegral sm_held;         // SMs × quota
};

class Cluster {
 public:
  Cluster(const Scenario& scenario);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int gpu_count() const { return static_cast<int>(gpus_.size()); }
  const Gpu& gpu(int id) const { return gpus_[static_cast<size_t>(id)]; }
  const Slice& slice(int id) const { return slices_[static_cast<size_t>(id)]; }
  int gpus_held() const { return gpus_held_; }

  // Allocates a slice, or returns -1 and sets *why. Never breaks an invariant.
  int AllocateSlice(const SliceRequest& request, SimTime now, std::string* why);
  // REQUIRES: slice(id).live.
  void FreeSlice(int id, SimTime now);
  // Changes a live slice's quota; returns false (and sets *why) if the partition would
  // exceed a total quota of 1.
  bool SetQuota(int id, double quota, SimTime now, std::string* why);

  // Lowest-numbered GPU holding no slice, or -1. O(1).
  int FirstEmptyGpu() const;
  // The GPUs holding no slice, in ascending order (kept as slices come and go).
  const std::set<int>& empty_gpus() const { return empty_gpus_; }

  // Registers `on_change`, called with a GPU's id after every change of its slices,
  // partitions or quotas (AllocateSlice, FreeSlice, SetQuota that succeed), once the change
  // is complete. Lets a policy keep an index over GPU state current without scanning.
  // REQUIRES: `on_change` is callable for as long as slices change.
  void AddGpuListener(std::function<void(int gpu)> on_change) { listeners_.push_back(std::move(on_change)); }

  const CostMeters& meters(int model) const { return meters_[static_cast<size_t>(model)]; }

  // Checks every invariant from scratch; returns an empty string when all hold.
  std::string CheckInvariants() const;

 private:
  // Adds (sign +1) or removes (-1) GPU g's whole-GPU cost attribution; called around every
  // change of its slices.
  void MeterWholeGpu(int g, SimTime now, double sign);
  void MeterSlice(const Slice& s, SimTime now, double sign);

  std::vector<Gpu> gpus_;
  std::vector<Slice> slices_;
  std::vector<CostMeters> meters_;
  int gpus_held_ = 0;
  std::set<int> empty_gpus_;
  std::vector<std::function<void(int)>> listeners_;
  void Changed(int gpu) const {
    for (const auto& f : listeners_) f(gpu);
  }
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CLUSTER_CLUSTER_H_
