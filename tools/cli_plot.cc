#include "tools/cli_plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <set>
#include <thread>
#include <vector>

#include "sim/util/interrupt.h"
#include "tools/cli_util.h"

extern char** environ;

namespace gpuslice {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// True when some entry of the PATH-like `path` holds gpuslice/plot.py.
bool HasModule(const std::string& path) {
  std::stringstream entries(path);
  std::string entry;
  while (std::getline(entries, entry, ':')) {
    std::error_code ec;
    if (!entry.empty() && std::filesystem::is_regular_file(std::filesystem::path(entry) / "gpuslice" / "plot.py", ec)) {
      return true;
    }
  }
  return false;
}

// The temporary figures the module writes beside FIG (".FIG.tmp-*", tools/python/gpuslice/plot.py).
std::set<std::string> TemporaryFigures(const std::string& output) {
  namespace fs = std::filesystem;
  std::set<std::string> found;
  const fs::path p = fs::absolute(output);
  const std::string prefix = "." + p.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(p.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) found.insert(it->path().string());
  }
  return found;
}

// A figure size: WIDTHxHEIGHT in inches, each a number in (0, 1000].
CLI::Validator FigureSize() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const size_t x = text.find('x');
        std::string w = x == std::string::npos ? "" : text.substr(0, x);
        std::string h = x == std::string::npos ? "" : text.substr(x + 1);
        const CLI::Validator inches = NumberIn(0, true, 1000, false);
        if (x == std::string::npos || !inches(w).empty() || !inches(h).empty()) {
          return "'" + text + "' is not WIDTHxHEIGHT in inches, each in (0, 1000] (e.g. 8x5)";
        }
        return std::string();
      },
      "WIDTHxHEIGHT");
}

}  // namespace

CLI::App* AddPlotCommand(CLI::App& app, PlotCommand* cmd) {
  CLI::App* plot = app.add_subcommand("plot", "Draw a result: policies compared, latency CDFs, time series, a sweep");
  plot->add_option("result", cmd->result, "A run/compare HDF5 file, a sweep folder or its sweep.h5")->required();
  plot->add_option("-o,--output", cmd->output, "Figure file: .png, .pdf or .svg")->required()->check(OutputPath());
  plot->add_option("--kind", cmd->kind, "compare, cdf, timeseries or sweep (default: compare; sweep for a sweep)")
      ->check(CLI::Validator(
          [](std::string& kind) -> std::string {
            for (const char* k : {"compare", "cdf", "timeseries", "sweep"}) {
              if (kind == k) return std::string();
            }
            return "unknown kind '" + kind + "' (compare, cdf, timeseries, sweep)";
          },
          "KIND"));
  plot->add_option("--metric", cmd->metric,
                   "compare/sweep: a summary metric (default violation_rate; compare also cost); "
                   "timeseries: a column to draw alone");
  plot->add_option("--x", cmd->x, "sweep: the swept parameter on the x axis (default: the first)");
  plot->add_option("--runs", cmd->runs, "Comma-separated runs to draw (a sweep: policies; default: all)");
  plot->add_option("--size", cmd->size, "Figure size in inches, WIDTHxHEIGHT (default per kind)")->check(FigureSize());
  plot->add_option("--dpi", cmd->dpi, "PNG resolution (default 150)")->check(NumberIn(0, true, 1200, false));
  plot->add_flag("--force", cmd->force, "Overwrite an existing figure");
  plot->footer(
      "Runs /usr/bin/python3 -m gpuslice.plot (matplotlib, pandas, h5py) from tools/python of the source tree;\n"
      "GPUSLICE_PYTHONPATH and GPUSLICE_PYTHON override where the module and the interpreter are.\n"
      "Examples:\n"
      "  gpuslice plot results/quickstart-compare.h5 -o compare.png\n"
      "  gpuslice plot results/quickstart-compare.h5 -o cdf.pdf --kind cdf --runs has-gpu,kserve\n"
      "  gpuslice plot results/quickstart-compare.h5 -o load.svg --kind timeseries\n"
      "  gpuslice plot sweeps/load -o load.png --metric latency_p99_ms --x load_scale");
  return plot;
}

int ExecutePlot(const PlotCommand& cmd) {
  const std::string python = EnvOr("GPUSLICE_PYTHON", "/usr/bin/python3");
  const std::string pythonpath = EnvOr("GPUSLICE_PYTHONPATH", GPUSLICE_SOURCE_DIR "/tools/python");
  if (::access(python.c_str(), X_OK) != 0) {
    std::cerr << "gpuslice: error: " << python << ": no such interpreter (install python3: tools/install-deps.sh)\n";
    return 2;
  }
  if (!HasModule(pythonpath)) {
    std::cerr << "gpuslice: error: " << pythonpath
              << ": no gpuslice/plot.py there (set GPUSLICE_PYTHONPATH to the source tree's tools/python)\n";
    return 2;
  }
  std::vector<std::string> args = {python, "-m", "gpuslice.plot", cmd.result, "-o", cmd.output};
  auto add = [&](const char* flag, const std::string& value) {
    if (value.empty()) return;
    args.push_back(flag);
    args.push_back(value);
  };
  add("--kind", cmd.kind);
  add("--metric", cmd.metric);
  add("--x", cmd.x);
  add("--runs", cmd.runs);
  add("--size", cmd.size);
  if (cmd.dpi != 0) add("--dpi", std::to_string(cmd.dpi));
  if (cmd.force) args.push_back("--force");

  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("PYTHONPATH=", 0) != 0) env.push_back(*e);
  }
  env.push_back("PYTHONPATH=" + pythonpath);
  env.push_back("MPLBACKEND=Agg");
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  for (std::string& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  if (InterruptRequested()) {
    std::cerr << "gpuslice: interrupted; no figure written\n";
    return 130;
  }
  const std::set<std::string> temporaries_before = TemporaryFigures(cmd.output);
  pid_t pid = 0;
  if (int err = ::posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), envp.data()); err != 0) {
    std::cerr << "gpuslice: error: " << python << ": cannot start (" << std::strerror(err) << ")\n";
    return 2;
  }
  // Waits for the module; on SIGINT or SIGTERM (the flag), gives it the interrupt it may not
  // have had (a signal sent to this process alone), then ends it if it does not stop.
  using Clock = std::chrono::steady_clock;
  int status = 0;
  bool interrupted = false, forwarded = false, killed = false;
  Clock::time_point seen;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      std::cerr << "gpuslice: internal error: waiting for " << python << ": " << std::strerror(errno) << "\n";
      return 3;
    }
    if (InterruptRequested()) {
      const Clock::time_point now = Clock::now();
      if (!interrupted) {
        interrupted = true;
        seen = now;
      } else if (!forwarded && now - seen > std::chrono::milliseconds(300)) {
        ::kill(pid, SIGINT);  // the module removes its temporary figure and exits 130
        forwarded = true;
      } else if (!killed && now - seen > std::chrono::seconds(3)) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interrupted ? 10 : 25));
  }
  const bool drawn = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if ((interrupted || InterruptRequested()) && !drawn) {
    // The figure, whole or none: what the module left half-written goes.
    for (const std::string& t : TemporaryFigures(cmd.output)) {
      std::error_code ec;
      if (!temporaries_before.count(t)) std::filesystem::remove(t, ec);
    }
    const bool said = WIFEXITED(status) && WEXITSTATUS(status) == 130;
    if (!said) std::cerr << "gpuslice: interrupted; no figure written\n";
    return 130;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace gpuslice
