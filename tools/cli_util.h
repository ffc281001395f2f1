// Shared by the gpuslice subcommands: warnings, atomic writes, exceptions to exit codes.
#ifndef GPUSLICE_TOOLS_CLI_UTIL_H_
#define GPUSLICE_TOOLS_CLI_UTIL_H_

#include <filesystem>
#include <fstream>
#include <iostream>

#include "gpu/calibrate/device.h"
#include "sim/simulation.h"
#include "sim/util/error.h"
#include "sim/util/files.h"

namespace gpuslice {

// Prints a scenario's warnings (options with no effect) on stderr, one line each.
inline void PrintWarnings(const Scenario& scenario) {
  for (const std::string& w : scenario.warnings) std::cerr << "gpuslice: warning: " << scenario.file << ": " << w << "\n";
}

// Runs `body`; maps exceptions to exit codes: 2 for the user's input, 69 no usable GPU, 1 a
// GPU call failed, 3 for our bugs, 130 for an interruption. Every message is one line on
// stderr.
template <typename Body>
int GuardedCommand(Body body) {
  try {
    return body();
  } catch (const Interrupted&) {
    std::cerr << "gpuslice: interrupted; no result file written\n";
    return 130;
  } catch (const InputError& e) {
    std::cerr << "gpuslice: error: " << e.what() << "\n";
    return 2;
  } catch (const NoGpuError& e) {
    std::cerr << "gpuslice: no GPU: " << e.what() << "\n";
    return kExitNoGpu;
  } catch (const GpuError& e) {
    std::cerr << "gpuslice: GPU error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gpuslice: internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_UTIL_H_
