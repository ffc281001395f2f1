// The `capacity` subcommand of the gpuslice command line.
#ifndef GPUSLICE_TOOLS_CLI_CAPACITY_H_
#define GPUSLICE_TOOLS_CLI_CAPACITY_H_

#include <atomic>
#include <string>
#include <vector>

#include "sim/capacity.h"

namespace gpuslice {

struct CapacityCommand {
  std::string scenario_path;
  std::string policy;
  std::vector<std::string> sets;
  long long seed = -1;
  int seeds = 1;
  double load_scale = 0;  // > 0: the base load (the scenario's load_scale); scales are relative to it
  CapacityOptions options;
  bool json = false;
};

int ExecuteCapacity(const CapacityCommand& cmd, const std::atomic<bool>& interrupted);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_CAPACITY_H_
