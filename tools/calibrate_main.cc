// gpuslice-calibrate: the calibration mode alone, for GPU machines without the simulator's
// dependencies (see tools/calibrate-gpu-box.sh).
#include <atomic>
#include <csignal>

#include "tools/cli_calibrate.h"

namespace {
std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpuslice-calibrate: measures the zoo's models on SM partitions of the local GPU and fits profiles",
               "gpuslice-calibrate"};
  app.set_version_flag("--version", GPUSLICE_VERSION);
  gpuslice::CalibrateCommand cmd;
  cmd.argv0 = argv[0];
  gpuslice::AddCalibrateOptions(&app, &cmd);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return gpuslice::ExecuteCalibrate(cmd, g_interrupted);
}
