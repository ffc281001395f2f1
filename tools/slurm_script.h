// The Slurm job-array script of a sweep: one array task per chunk of the sweep's distinct
// runs, each running `gpuslice sweep SPEC -o DIR --task K`, which stores its finished runs
// under DIR/runs/ (sim/sweep.h); `--merge` builds the tables afterwards.
#ifndef GPUSLICE_TOOLS_SLURM_SCRIPT_H_
#define GPUSLICE_TOOLS_SLURM_SCRIPT_H_

#include <string>

namespace gpuslice {

struct SlurmOptions {
  std::string partition;        // "" = the cluster's default
  std::string time = "1:00:00"; // per array task, Slurm's --time format
  std::string memory = "4G";    // per array task, Slurm's --mem format
  int chunk_size = 10;          // distinct runs per array task
  int cpus_per_task = 1;        // runs of a task in parallel
};

// Throws InputError naming the option when a value is not one Slurm accepts (checked here so
// that a typo fails before submission) or could break out of the script's quoting.
void CheckSlurmOptions(const SlurmOptions& options);

// Array tasks needed for `distinct_runs`. REQUIRES: options checked.
int SlurmArrayTasks(int distinct_runs, const SlurmOptions& options);

// The sbatch script: the tasks run in `dir` and log to dir/slurm/ (which must exist). Paths
// are made absolute by the caller. Throws InputError if `dir` would need shell quoting.
// REQUIRES: options checked, distinct_runs > 0.
std::string SlurmArrayScript(const SlurmOptions& options, const std::string& job_name, int distinct_runs,
                             const std::string& binary, const std::string& spec, const std::string& dir);

// 'text' quoted for a POSIX shell.
std::string ShellQuote(const std::string& text);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_SLURM_SCRIPT_H_
