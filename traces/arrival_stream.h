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
class MergedStream final : public ArrivalStream {
 public:
  explicit MergedStream(std::vector<std::unique_ptr<ArrivalStream>> sources);
  bool Next(Arrival* out) override;

 private:
  struct Head {
    Arrival arrival;
    size_t source;
  };
  void SiftDown(size_t i);

  std::vector<std::unique_ptr<ArrivalStream>> sources_;
  std::vector<Head> heap_;  // binary min-heap on (time, source)
  bool primed_ = false;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_ARRIVAL_STREAM_H_
