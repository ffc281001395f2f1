#include "sim/cluster/request_fifo.h"

namespace gpuslice {

void RequestBlockPool::Grow() {
  // Default-initialised: the requests are written before they are read.
  slabs_.emplace_back(new RequestBlock[kSlabBlocks]);
  RequestBlock* slab = slabs_.back().get();
  for (size_t i = kSlabBlocks; i-- > 0;) {
    slab[i].next = free_;
    free_ = &slab[i];
  }
}

}  // namespace gpuslice
