// A request as the simulator carries it, from its arrival to its end.
#ifndef GPUSLICE_SIM_CLUSTER_REQUEST_H_
#define GPUSLICE_SIM_CLUSTER_REQUEST_H_

#include <cstdint>

#include "sim/engine/time.h"

namespace gpuslice {

struct Request {
  uint64_t id;
  SimTime arrival;
  SimTime enqueued;  // when it joined its current queue
  int32_t function;
  int32_t model;
  int32_t input_tokens;   // -1 when the workload has none
  int32_t output_tokens;  // -1 when the workload has none
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_CLUSTER_REQUEST_H_
