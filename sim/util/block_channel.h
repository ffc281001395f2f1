// BlockChannel: hands blocks of items from one producer thread to one consumer thread, in
// the order they were published, with a fixed number of blocks in circulation.
//
// It is the pipe between a run and its helper threads (the prefetched arrival stream and the
// metrics' counter updates): work is batched into blocks of thousands of items, so
// the lock is taken once per block and the two threads never touch the same block at once.
// Memory is bounded by the number of blocks times their capacity: a producer that runs
// ahead waits in Acquire() for the consumer to release a block.
//
// Either side may Cancel(): the other then stops waiting (Acquire() and Receive() return
// nullptr). Close() says the producer is done; the consumer receives what was published
// before it, then nullptr.
#ifndef GPUSLICE_SIM_UTIL_BLOCK_CHANNEL_H_
#define GPUSLICE_SIM_UTIL_BLOCK_CHANNEL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace gpuslice {

template <typename T>
class BlockChannel {
 public:
  using Block = std::vector<T>;

  // REQUIRES: blocks >= 1, block_capacity >= 1.
  BlockChannel(size_t blocks, size_t block_capacity) {
    storage_.reserve(blocks);
    for (size_t i = 0; i < blocks; ++i) {
      storage_.push_back(std::make_unique<Block>());
      storage_.back()->reserve(block_capacity);
      free_.push_back(storage_.back().get());
    }
  }
  BlockChannel(const BlockChannel&) = delete;
  BlockChannel& operator=(const BlockChannel&) = delete;

  // Producer: an empty block to fill (its capacity as constructed), waiting for one to be
  // released if none is free; nullptr once cancelled.
  Block* Acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return cancelled_ || !free_.empty(); });
    if (cancelled_) return nullptr;
    Block* block = free_.front();
    free_.pop_front();
    return block;
  }

  // Producer: hands a block from Acquire() to the consumer. REQUIRES: not after Close().
  void Publish(Block* block) {
    Change([&] { full_.push_back(block); });
  }

  // Producer: no more blocks.
  void Close() {
    Change([&] { closed_ = true; });
  }

  // Consumer: the next published block, waiting for one; nullptr once closed with nothing
  // left, or cancelled.
  Block* Receive() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return cancelled_ || closed_ || !full_.empty(); });
    if (cancelled_ || full_.empty()) return nullptr;
    Block* block = full_.front();
    full_.pop_front();
    return block;
  }

  // Consumer: gives a received block back to the producer, emptied.
  void Release(Block* block) {
    block->clear();
    Change([&] { free_.push_back(block); });
  }

  // Either side: stops the other's waits for good.
  void Cancel() {
    Change([&] { cancelled_ = true; });
  }

 private:
  // Applies `change` under the lock, then wakes every waiter.
  template <typename F>
  void Change(F change) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change();
    }
    changed_.notify_all();
  }

  std::vector<std::unique_ptr<Block>> storage_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Block*> free_;
  std::deque<Block*> full_;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_BLOCK_CHANNEL_H_
