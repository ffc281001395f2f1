// gpuslice-calibrate: the calibration mode alone, for GPU machines without the simulator's
// dependencies (see tools/calibrate-gpu-box.sh).
#include <atomic>
#include <csignal>

#include "sim/util/interrupt.h"
#include "tools/cli_calibrate.h"
#include "tools/cli_util.h"

namespace {
std::atomic<bool>& g_interrupted = gpuslice::InterruptFlag();
// The first signal asks the command to stop (exit 130); a second one ends the process at once.
void OnSignal(int signal) {
  g_interrupted.store(true);
  std::signal(signal, SIG_DFL);
}
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
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return gpuslice::PrintParseError(e, "gpuslice-calibrate");
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return gpuslice::ExecuteCalibrate(cmd, g_interrupted);
}
