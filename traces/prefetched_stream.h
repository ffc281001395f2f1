// PrefetchedStream: an arrival stream read ahead on a thread of its own.
//
// It hands out exactly the arrivals of the stream it wraps, in the same order, so a run
// with it gives the same results as without; the run's thread then reads arrivals from
// blocks instead of generating and merging them (at thousands of sources, the merge's tree
// and each source's generator state were cache misses on every arrival).
//
// The reader stops after the first arrival at or past `cutoff` (the run takes none of
// those), so it makes the same calls on the wrapped stream as a run that reads it directly:
// counters kept by trace readers (rows skipped) are the same once the stream is exhausted
// or Stop() has returned. An error the wrapped stream throws is rethrown by Next() where
// it occurred, after the arrivals before it.
#ifndef GPUSLICE_TRACES_PREFETCHED_STREAM_H_
#define GPUSLICE_TRACES_PREFETCHED_STREAM_H_

#include <exception>
#include <thread>

#include "sim/util/block_channel.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

class PrefetchedStream final : public ArrivalStream {
 public:
  // Starts reading `source` ahead. `source` must outlive this and must not be used by
  // anyone else until Stop() returns.
  PrefetchedStream(ArrivalStream& source, SimTime cutoff);
  ~PrefetchedStream() override;

  bool Next(Arrival* out) override;
  // Stops the reader (if still running) and waits for it. Idempotent.
  void Stop();

 private:
  struct Item {
    Arrival arrival;
    bool error;  // the wrapped stream threw here instead (error_ holds it); the block's last
  };
  static constexpr size_t kArrivalsPerBlock = 4096;
  void ReaderLoop(SimTime cutoff);

  ArrivalStream& source_;
  BlockChannel<Item> channel_;
  BlockChannel<Item>::Block* block_ = nullptr;  // being read
  size_t next_ = 0;                             // in block_
  bool done_ = false;
  std::exception_ptr error_;  // written by the reader before it publishes the item that says so
  std::thread reader_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_PREFETCHED_STREAM_H_
