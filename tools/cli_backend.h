// The executor backend of `run`, `compare` and `validate-gpu`: the simulator (the default),
// the local GPU (`cuda`), or the simulated device (`simulated-device`: the GPU backend's
// code on a device whose timings are the scenario's own performance model, in accelerated
// time; no GPU needed).
#ifndef GPUSLICE_TOOLS_CLI_BACKEND_H_
#define GPUSLICE_TOOLS_CLI_BACKEND_H_

#include <memory>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "gpu/backend/device_gpu.h"
#include "gpu/calibrate/device.h"
#include "sim/engine/real_time.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice {

struct BackendChoice {
  std::string name = "sim";  // sim, cuda, simulated-device
  double time_scale = 1.0;   // simulated-device: wall seconds per simulated second
  int device = 0;            // cuda: device index
  std::string zoo;           // "" = found beside the binary or in the source tree
  std::string argv0;
};

// Adds --backend, --time-scale, --device and --zoo.
void AddBackendOptions(CLI::App* app, BackendChoice* choice);

// The device of one command, and a fresh clock and ExternalGpu for each run on it.
class GpuBackend {
 public:
  // nullptr for the simulator. Throws InputError (a scenario the backend cannot run: more
  // than one GPU, a model the zoo lacks), NoGpuError, GpuError.
  static std::unique_ptr<GpuBackend> Open(const BackendChoice& choice, const Scenario& scenario);

  // Sets up the next run on the device (`options` gets its ExternalGpu and clock).
  void PrepareRun(RunOptions* options);
  // After the run: its notes and errors to `out`; false if a GPU error occurred.
  bool FinishRun(std::ostream& out);
  const std::string& device_name() const { return device_->info().name; }

 private:
  GpuBackend() = default;
  std::unique_ptr<CalibrationDevice> device_;
  std::vector<ZooModel> zoo_models_;
  double window_ms_ = 40;
  double time_scale_ = 1;
  std::unique_ptr<RealTime> real_time_;
  std::unique_ptr<DeviceGpu> gpu_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_BACKEND_H_
