#include "tools/slurm_script.h"

#include <cctype>
#include <regex>

#include "sim/util/error.h"

namespace gpuslice {

void CheckSlurmOptions(const SlurmOptions& o) {
  // sbatch(1): partition names; --time "minutes", "minutes:seconds", "hours:minutes:seconds",
  // "days-hours[:minutes[:seconds]]"; --mem a size with an optional K, M, G or T suffix.
  static const std::regex partition("[A-Za-z0-9_.,-]+");
  static const std::regex time("[0-9]+(:[0-9]{1,2}){0,2}|[0-9]+-[0-9]{1,2}(:[0-9]{1,2}){0,2}");
  static const std::regex memory("[0-9]+[KMGT]?");
  if (!o.partition.empty() && !std::regex_match(o.partition, partition)) {
    throw InputError("--partition " + o.partition + ": not a Slurm partition name");
  }
  if (!std::regex_match(o.time, time)) {
    throw InputError("--time " + o.time + ": expected minutes, H:MM:SS or D-HH[:MM[:SS]] (sbatch --time)");
  }
  if (!std::regex_match(o.memory, memory)) throw InputError("--mem " + o.memory + ": expected a size such as 4G");
  if (o.chunk_size < 1) throw InputError("--chunk-size must be >= 1");
  if (o.cpus_per_task < 1 || o.cpus_per_task > 1024) throw InputError("--cpus-per-task must be in [1, 1024]");
}

int SlurmArrayTasks(int distinct_runs, const SlurmOptions& o) {
  return (distinct_runs + o.chunk_size - 1) / o.chunk_size;
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string SlurmArrayScript(const SlurmOptions& o, const std::string& job_name, int distinct_runs,
                             const std::string& binary, const std::string& spec, const std::string& dir) {
  static const std::regex plain_path("[A-Za-z0-9_./+@%:,=-]+");
  if (!std::regex_match(dir, plain_path)) {
    throw InputError(dir + ": a Slurm sweep folder's path must not need shell quoting (no spaces or quotes)");
  }
  const int tasks = SlurmArrayTasks(distinct_runs, o);
  std::string s = "#!/bin/bash\n";
  s += "# A gpuslice sweep as a Slurm job array: " + std::to_string(distinct_runs) + " runs in " +
       std::to_string(tasks) + " tasks of at most " + std::to_string(o.chunk_size) + ".\n";
  s += "# Each task stores its finished runs under the sweep folder; when the array has ended:\n";
  s += "#   " + ShellQuote(binary) + " sweep " + ShellQuote(spec) + " -o " + ShellQuote(dir) + " --merge\n";
  std::string safe_name;
  for (char c : job_name) safe_name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  s += "#SBATCH --job-name=gpuslice-" + safe_name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(tasks - 1) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
  s += "#SBATCH --time=" + o.time + "\n";
  s += "#SBATCH --mem=" + o.memory + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  // #SBATCH lines are not shell-quoted: the folder's path is checked to need no quoting.
  s += "#SBATCH --chdir=" + dir + "\n";
  s += "#SBATCH --output=slurm/%A_%a.out\n";
  s += "set -euo pipefail\n";
  s += "exec " + ShellQuote(binary) + " sweep " + ShellQuote(spec) + " -o " + ShellQuote(dir) +
       " --task \"$SLURM_ARRAY_TASK_ID\" --chunk-size " + std::to_string(o.chunk_size) + " -j " +
       std::to_string(o.cpus_per_task) + " --quiet\n";
  return s;
}

}  // namespace gpuslice
