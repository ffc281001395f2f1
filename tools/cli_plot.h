// The `plot` subcommand: draws a result with the Python module tools/python/gpuslice
// (`/usr/bin/python3 -m gpuslice.plot`), which does the reading, checking and drawing.
//
// The module is found on GPUSLICE_PYTHONPATH when set, else in the source tree this binary was
// built from (GPUSLICE_SOURCE_DIR/tools/python); the interpreter is GPUSLICE_PYTHON when set,
// else /usr/bin/python3. A missing interpreter or module is a one-line error and exit 2; else
// the exit code is the module's (0, 2 bad input, 3 a bug).
#ifndef GPUSLICE_TOOLS_CLI_PLOT_H_
#define GPUSLICE_TOOLS_CLI_PLOT_H_

#include <string>

#include <CLI/CLI.hpp>

namespace gpuslice {

struct PlotCommand {
  std::string result;
  std::string output;
  std::string kind;    // "" = the module's default for the result
  std::string metric;
  std::string x;
  std::string runs;
  std::string size;    // WIDTHxHEIGHT in inches; "" = per kind
  double dpi = 0;      // 0 = the module's default
  bool force = false;
};

CLI::App* AddPlotCommand(CLI::App& app, PlotCommand* cmd);
int ExecutePlot(const PlotCommand& cmd);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_PLOT_H_
