// The FIFOs requests wait in (an instance's queue, a model's buffer), in fixed-size blocks
// taken from a pool that all the queues of one run share.
//
// Guarantees:
//  - a FIFO of n requests holds at most ceil(n / kBlockRequests) + 1 blocks, and an empty
//    one holds none;
//  - a block a FIFO no longer needs goes back to its pool's free list at once and serves the
//    next FIFO that grows, so the memory of a run's queues follows the most requests queued at
//    any one time (plus a block per non-empty queue), never how often queues grew and shrank
//    nor the time simulated;
//  - a queued request is never copied again until it leaves (no ring to double or halve).
// The pool owns every block and frees them all when it is destroyed; a FIFO owns nothing, so
// it may be destroyed before or after its pool, but must not be used after it.
#ifndef GPUSLICE_SIM_CLUSTER_REQUEST_FIFO_H_
#define GPUSLICE_SIM_CLUSTER_REQUEST_FIFO_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "sim/cluster/request.h"

namespace gpuslice {

// 16 requests of 40 bytes and a link: 648 bytes a block. Smaller blocks waste less in
// queues of a few requests; larger ones spend less on links and pool traffic.
inline constexpr size_t kBlockRequests = 16;

struct RequestBlock {
  RequestBlock* next;
  Request requests[kBlockRequests];
};
static_assert(sizeof(Request) == 40 && sizeof(RequestBlock) == 648, "update the sizes in the comments");

// Hands out RequestBlocks, carving them from slabs it never frees before its destruction.
class RequestBlockPool {
 public:
  RequestBlockPool() = default;
  RequestBlockPool(const RequestBlockPool&) = delete;
  RequestBlockPool& operator=(const RequestBlockPool&) = delete;

  // A block whose `next` is null and whose requests are unspecified.
  RequestBlock* Take() {
    if (free_ == nullptr) Grow();
    RequestBlock* b = free_;
    free_ = b->next;
    b->next = nullptr;
    ++in_use_;
    return b;
  }
  // REQUIRES: `b` came from this pool's Take and is not in use any more.
  void Give(RequestBlock* b) {
    b->next = free_;
    free_ = b;
    --in_use_;
  }
  size_t blocks_in_use() const { return in_use_; }
  // Every block carved so far: the most ever in use at once, rounded up to a slab.
  size_t blocks_allocated() const { return slabs_.size() * kSlabBlocks; }

 private:
  static constexpr size_t kSlabBlocks = 64;  // about 41 KB a slab
  void Grow();

  RequestBlock* free_ = nullptr;
  size_t in_use_ = 0;
  std::vector<std::unique_ptr<RequestBlock[]>> slabs_;
};

class RequestFifo {
 public:
  RequestFifo() = default;
  // Move-only: two FIFOs must never share blocks. The moved-from FIFO is empty.
  RequestFifo(RequestFifo&& other) noexcept { *this = std::move(other); }
  // REQUIRES: this FIFO is empty (its blocks would not go back to the pool before the
  // pool's destruction).
  RequestFifo& operator=(RequestFifo&& other) noexcept {
    size_ = other.size_;
    head_ = other.head_;
    tail_ = other.tail_;
    head_index_ = other.head_index_;
    tail_count_ = other.tail_count_;
    other.size_ = 0;
    other.head_ = other.tail_ = nullptr;
    other.head_index_ = other.tail_count_ = 0;
    return *this;
  }
  RequestFifo(const RequestFifo&) = delete;
  RequestFifo& operator=(const RequestFifo&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // REQUIRES: !empty().
  const Request& front() const { return head_->requests[head_index_]; }

  // REQUIRES: every push and pop of this FIFO passes the same pool.
  void push_back(const Request& r, RequestBlockPool& pool) {
    if (tail_ == nullptr) {
      head_ = tail_ = pool.Take();
      head_index_ = tail_count_ = 0;
    } else if (tail_count_ == kBlockRequests) {
      RequestBlock* b = pool.Take();
      tail_->next = b;
      tail_ = b;
      tail_count_ = 0;
    }
    tail_->requests[tail_count_++] = r;
    ++size_;
  }
  // Removes the n oldest. REQUIRES: n <= size(); the pool of the pushes.
  void pop_front(RequestBlockPool& pool, size_t n = 1) {
    size_ -= n;
    if (size_ == 0) {
      while (head_ != nullptr) {
        RequestBlock* next = head_->next;
        pool.Give(head_);
        head_ = next;
      }
      tail_ = nullptr;
      head_index_ = tail_count_ = 0;
      return;
    }
    head_index_ += n;
    while (head_index_ >= kBlockRequests) {  // the head block is spent; a later one holds the rest
      RequestBlock* spent = head_;
      head_ = spent->next;
      pool.Give(spent);
      head_index_ -= kBlockRequests;
    }
  }
  // Appends the n oldest to *out, oldest first. REQUIRES: n <= size().
  void CopyFront(size_t n, std::vector<Request>* out) const {
    const RequestBlock* b = head_;
    size_t i = head_index_;
    for (; n > 0; --n) {
      if (i == kBlockRequests) {
        b = b->next;
        i = 0;
      }
      out->push_back(b->requests[i++]);
    }
  }
  // Calls fn(const Request&) on each request, oldest first.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    const RequestBlock* b = head_;
    size_t i = head_index_;
    for (size_t left = size_; left > 0; --left) {
      if (i == kBlockRequests) {
        b = b->next;
        i = 0;
      }
      fn(b->requests[i++]);
    }
  }

 private:
  size_t size_ = 0;              // first: what a routing pick reads (Instance's first cache line)
  RequestBlock* head_ = nullptr;  // holds the oldest, at head_index_
  RequestBlock* tail_ = nullptr;  // holds the newest, at tail_count_ - 1
  uint32_t head_index_ = 0;
  uint32_t tail_count_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CLUSTER_REQUEST_FIFO_H_
