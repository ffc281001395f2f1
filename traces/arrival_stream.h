// ArrivalStream: the one interface between workloads and the simulator.
//
// A stream hands out arrivals one at a time in non-decreasing time, pulling from its source
// on demand, so that memory does not grow with the length of a trace. Readers of real
// traces and synthetic generators both implement it; MergedStream combines several.
#ifndef GPUSLICE_TRACES_ARRIVAL_STREAM_H_
#define GPUSLICE_TRACES_ARRIVAL_STREAM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

struct Arrival {
  SimTime time;
  int32_t function;            // index into the scenario's function table
  int32_t input_tokens = -1;   // LLM traces: prompt tokens; -1 when the trace has none
  int32_t output_tokens = -1;  // LLM traces: generated tokens; -1 when the trace has none
};

class ArrivalStream {
 public:
  virtual ~ArrivalStream() = default;
  // Stores the next arrival in *out and returns true, or returns false once exhausted.
  // Successive arrivals never go back in time. May throw InputError on bad trace data.
  virtual bool Next(Arrival* out) = 0;
};

// Merges streams by time; equal times come in the order of the streams given.
//
// A tournament (loser) tree over the sources' next arrivals: a pull replays one leaf-to-root
// path, one comparison per level (ceil(log2 n) in all), over nodes that hold their keys, so
// a merge of thousands of streams touches one small array per arrival.
class MergedStream final : public ArrivalStream {
 public:
  explicit MergedStream(std::vector<std::unique_ptr<ArrivalStream>> sources);
  bool Next(Arrival* out) override;

 private:
  // The order of the merge: by time, then by rank. A live source's rank is its index; an
  // exhausted one's is its index plus the number of sources, so it loses to every live one.
  struct Key {
    SimTime time;
    uint64_t rank;
  };
  static bool Before(const Key& a, const Key& b) {
    return a.time < b.time || (a.time == b.time && a.rank < b.rank);
  }
  // Pulls source `s`'s next arrival into heads_[s] and returns its key.
  Key Pull(size_t s);
  void Prime();

  std::vector<std::unique_ptr<ArrivalStream>> sources_;
  std::vector<Arrival> heads_;  // each source's next arrival (stale once exhausted)
  // losers_[i], 1 <= i < leaves_: the key that lost the match at internal node i; leaf j
  // (source j, or an empty slot when j >= sources) sits below node (leaves_ + j) / 2.
  std::vector<Key> losers_;
  Key winner_{};
  size_t leaves_ = 1;  // a power of two >= the number of sources
  bool primed_ = false;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_ARRIVAL_STREAM_H_
