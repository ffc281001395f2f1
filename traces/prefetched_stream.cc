#include "traces/prefetched_stream.h"

namespace gpuslice {

PrefetchedStream::PrefetchedStream(ArrivalStream& source, SimTime cutoff)
    : source_(source), channel_(4, kArrivalsPerBlock) {
  reader_ = std::thread([this, cutoff] { ReaderLoop(cutoff); });
}

PrefetchedStream::~PrefetchedStream() { Stop(); }

void PrefetchedStream::Stop() {
  if (!reader_.joinable()) return;
  channel_.Cancel();
  reader_.join();
}

void PrefetchedStream::ReaderLoop(SimTime cutoff) {
  for (;;) {
    BlockChannel<Item>::Block* block = channel_.Acquire();
    if (block == nullptr) return;  // cancelled
    bool last = false;
    while (!last && block->size() < kArrivalsPerBlock) {
      Item item{};
      try {
        if (!source_.Next(&item.arrival)) {
          last = true;
          break;
        }
        last = item.arrival.time >= cutoff;
      } catch (...) {
        error_ = std::current_exception();
        item.error = true;
        last = true;
      }
      block->push_back(item);
    }
    channel_.Publish(block);
    if (last) {
      channel_.Close();
      return;
    }
  }
}

bool PrefetchedStream::Next(Arrival* out) {
  while (!done_) {
    if (block_ != nullptr && next_ < block_->size()) {
      const Item& item = (*block_)[next_++];
      if (item.error) {
        done_ = true;
        std::rethrow_exception(error_);
      }
      *out = item.arrival;
      return true;
    }
    if (block_ != nullptr) channel_.Release(block_);
    block_ = channel_.Receive();
    next_ = 0;
    if (block_ == nullptr) done_ = true;
  }
  return false;
}

}  // namespace gpuslice
