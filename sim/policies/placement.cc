#include "sim/policies/placement.h"

#include <cmath>

namespace gpuslice {

int SmCountFor(const Gpu& gpu, double sm_percent) {
  return std::max(1, static_cast<int>(std::lround(sm_percent / 100.0 * gpu.spec->sm_count)));
}

int PlaceSlice(PolicyContext& ctx, int model, double sm_percent, double quota, bool warm, int max_batch,
               const std::string& why) {
  Cluster& cluster = ctx.cluster;
  const ModelSpec& m = ctx.scenario.models[static_cast<size_t>(model)];
  std::string refusal = "no GPU";
  for (int g = 0; g < cluster.gpu_count(); ++g) {
    const Gpu& gpu = cluster.gpu(g);
    const int sm = SmCountFor(gpu, sm_percent);
    SliceRequest r{g, -1, sm, quota, m.memory_mb, model};
    for (size_t p = 0; p < gpu.partitions.size(); ++p) {
      if (gpu.partitions[p].sm_count == sm && gpu.partitions[p].quota_used + quota <= 1.0 + 1e-9) {
        r.partition = static_cast<int>(p);
        break;
      }
    }
    // A refused try changes nothing and only the last GPU's refusal is reported, so a GPU
    // before it that the cluster would refuse (short of memory; or, with no partition of
    // this share to join, short of SMs for a new one) is passed over without the try.
    const bool last = g + 1 == cluster.gpu_count();
    if (!last && (m.memory_mb > gpu.free_memory_mb() || (r.partition < 0 && sm > gpu.free_sm()))) continue;
    int id = ctx.executor.StartInstance(r, warm, &refusal, max_batch);
    if (id < 0 && r.partition >= 0) {
      r.partition = -1;
      id = ctx.executor.StartInstance(r, warm, &refusal, max_batch);
    }
    if (id >= 0) return id;
  }
  ctx.actions.Add(Action{ctx.engine.Now(), "refused", model, -1, -1, 0, quota, why + ": " + refusal});
  return -1;
}

}  // namespace gpuslice
