// GpuOrderIndex: the GPUs that pass a filter, kept in ascending order of a key computed from
// their state, ties by GPU id: the order `std::stable_sort` by that key gives over the GPUs
// listed by id, without sorting or scanning every GPU whenever it is wanted.
//
// State changes are reported with MarkDirty (O(1), e.g. from Cluster::AddGpuListener);
// Refresh recomputes the key and membership of the GPUs marked since the last Refresh only,
// O(d log n) for d of them. Between Refreshes the order is a snapshot: iterating it while
// GPUs change (and are marked) is safe and sees the state at the last Refresh, as a sorted
// copy would.
//
// Keys are recomputed by the same function a full sort would call, from the GPU's state
// alone, so the order is exactly the sort's (no incremental arithmetic on keys).
#ifndef GPUSLICE_SIM_POLICIES_GPU_ORDER_INDEX_H_
#define GPUSLICE_SIM_POLICIES_GPU_ORDER_INDEX_H_

#include <functional>
#include <set>
#include <utility>
#include <vector>

namespace gpuslice {

class GpuOrderIndex {
 public:
  using Entry = std::pair<double, int>;  // (key, GPU id)
  using const_iterator = std::set<Entry>::const_iterator;

  // `key(gpu)` and `member(gpu)` read a GPU's current state. Every GPU starts dirty.
  // REQUIRES: both are callable for as long as Refresh is; key never returns NaN.
  GpuOrderIndex(int gpu_count, std::function<double(int)> key, std::function<bool(int)> member);

  // Notes that GPU `gpu`'s key or membership may have changed. REQUIRES: 0 <= gpu < count.
  void MarkDirty(int gpu);
  // Brings every GPU marked since the last Refresh up to date.
  void Refresh();

  // Members in ascending (key, id) order, as of the last Refresh.
  const_iterator begin() const { return order_.begin(); }
  const_iterator end() const { return order_.end(); }
  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }

 private:
  std::function<double(int)> key_of_;
  std::function<bool(int)> member_;
  std::set<Entry> order_;
  std::vector<double> key_;      // the key each member is filed under
  std::vector<char> in_;         // filed in order_
  std::vector<char> dirty_;
  std::vector<int> dirty_list_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_GPU_ORDER_INDEX_H_
