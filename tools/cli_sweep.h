// The `sweep` subcommand: a grid of parameters × policy runs × seeds (sim/sweep.h), run on
// local cores or as a Slurm job array, resumable, with tables of means and 95% CIs.
#ifndef GPUSLICE_TOOLS_CLI_SWEEP_H_
#define GPUSLICE_TOOLS_CLI_SWEEP_H_

#include <atomic>
#include <string>

#include "tools/progress.h"
#include "tools/slurm_script.h"

namespace CLI {
class App;
}

namespace gpuslice {

struct SweepCommand {
  std::string spec_path;
  std::string output_dir;
  int jobs = 0;            // 0 = every core
  bool no_helper_threads = false;  // never RunOptions::helper_threads
  bool json = false;
  bool slurm = false;      // write DIR/sweep.sbatch
  bool submit = false;     // ... and submit it
  bool merge = false;      // build the tables from the stored runs only
  int task = -1;           // >= 0: run chunk `task` of the distinct runs (a Slurm array task)
  SlurmOptions slurm_options;
  ProgressChoice progress;
};

CLI::App* AddSweepCommand(CLI::App& app, SweepCommand* cmd);

// Exit codes: 0 done (tables written), 1 --merge with runs missing or sbatch failed, 2 bad
// input, 3 internal error, 130 interrupted (finished runs are kept).
int ExecuteSweep(const SweepCommand& cmd, const std::atomic<bool>& interrupted);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_SWEEP_H_
