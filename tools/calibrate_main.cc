// gpuslice-calibrate: the calibration mode alone, for GPU machines without the simulator's
// dependencies (see tools/calibrate-gpu-box.sh).
#include <atomic>
#include <csignal>
#include <ctime>

#include "sim/util/interrupt.h"
#include "tools/cli_calibrate.h"
#include "tools/cli_util.h"

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
