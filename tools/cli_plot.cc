#include "tools/cli_plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <vector>

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

}  // namespace

CLI::App* AddPlotCommand(CLI::App& app, PlotCommand* cmd) {
  CLI::App* plot = app.add_subcommand("plot", "Draw a result: policies compared, latency CDFs, time series, a sweep");
  plot->add_option("result", cmd->result, "A run/compare HDF5 file, a sweep folder or its sweep.h5")->required();
  plot->add_option("-o,--output", cmd->output, "Figure file: .png, .pdf or .svg")->required();
  plot->add_option("--kind", cmd->kind, "compare, cdf, timeseries or sweep (default: compare; sweep for a sweep)");
  plot->add_option("--metric", cmd->metric,
                   "compare/sweep: a summary metric (default violation_rate; compare also cost); "
                   "timeseries: a column to draw alone");
  plot->add_option("--x", cmd->x, "sweep: the swept parameter on the x axis (default: the first)");
  plot->add_option("--runs", cmd->runs, "Comma-separated runs to draw (a sweep: policies; default: all)");
  plot->add_option("--size", cmd->size, "Figure size in inches, WIDTHxHEIGHT (default per kind)");
  plot->add_option("--dpi", cmd->dpi, "PNG resolution (default 150)");
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

  pid_t pid = 0;
  if (int err = ::posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), envp.data()); err != 0) {
    std::cerr << "gpuslice: error: " << python << ": cannot start (" << std::strerror(err) << ")\n";
    return 2;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::cerr << "gpuslice: internal error: waiting for " << python << ": " << std::strerror(errno) << "\n";
      return 3;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace gpuslice
