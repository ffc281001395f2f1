// gpuslice-gpu: what a bare GPU machine runs, without the simulator's HDF5 and Debian
// libraries: `calibrate` (as gpuslice-calibrate) and `validate-gpu` (the simulator and the
// GPU backend on the same scenario). Static C++ runtime; see tools/gpu-box.sh.
#include <atomic>
#include <csignal>
#include <ctime>

#include <CLI/CLI.hpp>

#include "sim/util/interrupt.h"
#include "tools/cli_calibrate.h"
#include "tools/cli_util.h"
#include "tools/cli_run.h"

namespace {
std::atomic<bool>& g_interrupted = gpuslice::InterruptFlag();
std::atomic<long long> g_first_signal_ns{0};

long long MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// The first signal asks the command to stop (exit 130, nothing left behind); another one more
// than half a second later, for a command that does not stop, ends the process at once. (One
// Ctrl-C or `timeout -s INT` may deliver the signal twice: to the process and to its group.)
void OnSignal(int signal) {
  const long long now = MonotonicNs();
  if (!g_interrupted.exchange(true)) {
    g_first_signal_ns.store(now);
    return;
  }
  if (now - g_first_signal_ns.load() > 500000000LL) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpuslice-gpu: calibration and simulator-vs-GPU validation on the local GPU", "gpuslice-gpu"};
  app.set_version_flag("--version", GPUSLICE_VERSION);
  app.require_subcommand(1);
  gpuslice::CalibrateCommand calibrate_cmd;
  calibrate_cmd.argv0 = argv[0];
  gpuslice::AddCalibrateOptions(app.add_subcommand("calibrate", "Measure the zoo on SM partitions and fit profiles"),
                                &calibrate_cmd);
  gpuslice::ValidateGpuCommand vgpu_cmd;
  vgpu_cmd.backend.name = "cuda";
  vgpu_cmd.backend.argv0 = argv[0];
  CLI::App* vgpu = app.add_subcommand("validate-gpu", "Run a scenario on the simulator and on the local GPU, side by side");
  gpuslice::AddValidateGpuOptions(vgpu, &vgpu_cmd);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return gpuslice::PrintParseError(e, "gpuslice-gpu");
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (vgpu->parsed()) return gpuslice::ExecuteValidateGpu(vgpu_cmd, g_interrupted);
  return gpuslice::ExecuteCalibrate(calibrate_cmd, g_interrupted);
}
