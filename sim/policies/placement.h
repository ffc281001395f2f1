// Placement of fractional slices shared by the policies that use them.
#ifndef GPUSLICE_SIM_POLICIES_PLACEMENT_H_
#define GPUSLICE_SIM_POLICIES_PLACEMENT_H_

#include <string>

#include "sim/policies/policy.h"

namespace gpuslice {

// SMs of a GPU for an SM share: rounded, at least 1.
int SmCountFor(const Gpu& gpu, double sm_percent);

// Starts an instance of `model` on a slice of `sm_percent` and `quota`, first fit over the
// GPUs in order: time-share a partition of the same SM count that has quota to spare, else
// open a partition in free SMs (FaST-GShare's packing of SM × time rectangles reduces to
// this for slices of one shape). Returns the instance, or -1 with a "refused" action logged.
int PlaceSlice(PolicyContext& ctx, int model, double sm_percent, double quota, bool warm, int max_batch,
               const std::string& why);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_PLACEMENT_H_
