// Buckets: values grouped by a small dense key (a model, a GPU), each group in the order its
// values were added. Built in one counting sort, O(values + keys), for indexes that are
// rebuilt from scratch when what they index changes, so that a lookup by key reads only
// that key's values instead of scanning everything.
#ifndef GPUSLICE_SIM_UTIL_BUCKETS_H_
#define GPUSLICE_SIM_UTIL_BUCKETS_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace gpuslice {

template <typename Value>
class Buckets {
 public:
  // Groups `keyed` (key, value) pairs by key, keeping their order within a key.
  // REQUIRES: every key < keys.
  void Build(size_t keys, const std::vector<std::pair<uint32_t, Value>>& keyed) {
    offsets_.assign(keys + 1, 0);
    for (const auto& [key, value] : keyed) ++offsets_[key + 1];
    for (size_t k = 0; k < keys; ++k) offsets_[k + 1] += offsets_[k];
    values_.resize(keyed.size());
    std::vector<uint32_t> next(offsets_.begin(), offsets_.end() - 1);
    for (const auto& [key, value] : keyed) values_[next[key]++] = value;
  }

  // The values of `key`, in the order they were given. An unknown key has none.
  std::span<const Value> operator[](size_t key) const {
    if (key + 1 >= offsets_.size()) return {};
    return {values_.data() + offsets_[key], values_.data() + offsets_[key + 1]};
  }

 private:
  std::vector<uint32_t> offsets_;
  std::vector<Value> values_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_BUCKETS_H_
