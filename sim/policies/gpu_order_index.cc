#include "sim/policies/gpu_order_index.h"

namespace gpuslice {

GpuOrderIndex::GpuOrderIndex(int gpu_count, std::function<double(int)> key, std::function<bool(int)> member)
    : key_of_(std::move(key)),
      member_(std::move(member)),
      key_(static_cast<size_t>(gpu_count), 0.0),
      in_(static_cast<size_t>(gpu_count), 0),
      dirty_(static_cast<size_t>(gpu_count), 1) {
  dirty_list_.reserve(static_cast<size_t>(gpu_count));
  for (int g = 0; g < gpu_count; ++g) dirty_list_.push_back(g);
}

void GpuOrderIndex::MarkDirty(int gpu) {
  char& d = dirty_[static_cast<size_t>(gpu)];
  if (d) return;
  d = 1;
  dirty_list_.push_back(gpu);
}

void GpuOrderIndex::Refresh() {
  for (int g : dirty_list_) {
    const size_t i = static_cast<size_t>(g);
    dirty_[i] = 0;
    const bool member = member_(g);
    const double key = member ? key_of_(g) : 0.0;
    if (in_[i] && (!member || key != key_[i])) {
      order_.erase(Entry{key_[i], g});
      in_[i] = 0;
    }
    if (member && !in_[i]) {
      order_.insert(Entry{key, g});
      key_[i] = key;
      in_[i] = 1;
    }
  }
  dirty_list_.clear();
}

}  // namespace gpuslice
