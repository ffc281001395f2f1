#include "tools/cli_sweep.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>

#include <CLI/CLI.hpp>

#include "sim/sweep.h"
#include "sim/sweep_output.h"
#include "tools/cli_util.h"
#include "tools/parallel.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// Ctrl-C during the runs, after the message saying what was kept.
struct SweepInterrupted {};

// The first run of each distinct key, in plan order.
std::vector<const SweepRun*> DistinctRuns(const std::vector<SweepRun>& runs) {
  std::vector<const SweepRun*> distinct;
  std::map<std::string, bool> seen;
  for (const SweepRun& r : runs) {
    if (seen.emplace(r.key, true).second) distinct.push_back(&r);
  }
  return distinct;
}

std::string RunLabel(const SweepSpec& spec, const SweepRun& run) {
  std::string label;
  for (size_t i = 0; i < spec.grid.size(); ++i) label += spec.grid[i].path + "=" + ParameterText(run.values[i]) + " ";
  return label + run.policy + " seed " + std::to_string(run.seed);
}

std::string ThisBinary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw InputError("cannot find this program's path (/proc/self/exe) for the Slurm script");
  return self.string();
}

// Runs `todo` on local threads, storing each finished run. Returns the number run; throws the
// first failure (by index) after every started run has ended, and Interrupted on Ctrl-C.
int RunLocally(const SweepCommand& cmd, const SweepSpec& spec, const std::vector<const SweepRun*>& todo,
               const std::atomic<bool>& interrupted, int jobs) {
  if (todo.empty()) return 0;
  const int threads = ThreadsFor(jobs, todo.size());
  ProgressLine progress(std::cerr, ProgressEnabled(cmd.progress), static_cast<int>(todo.size()));
  std::atomic<int> done{0};
  const std::vector<std::exception_ptr> errors = ParallelFor(todo.size(), threads, [&](size_t i) {
    if (interrupted.load()) throw Interrupted();
    RunOptions options;
    options.interrupted = &interrupted;
    options.keep_actions = false;
    options.progress = progress.ForRun(static_cast<int>(i));
    options.helper_threads = HelperThreadsFit(threads, cmd.no_helper_threads);
    const RunResult result = ExecuteSweepRun(*todo[i], spec.file, options);
    StoreRun(cmd.output_dir, *todo[i], result);
    progress.RunDone(static_cast<int>(i));
    ++done;
  });
  progress.Finish();
  std::exception_ptr interrupt;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const Interrupted&) {
      interrupt = errors[i];
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (in " + RunLabel(spec, *todo[i]) + ")");
    }
  }
  if (interrupt) {
    if (done.load() == 0) {
      std::cerr << "gpuslice: interrupted; no run finished this time\n";
    } else {
      std::cerr << "gpuslice: interrupted; " << done.load() << " runs finished this time are stored in "
                << cmd.output_dir << "/runs; run the same command again to go on\n";
    }
    throw SweepInterrupted();
  }
  return done.load();
}

// Loads every stored run's summary; the keys not stored are returned in `missing`.
std::map<std::string, Json> LoadStored(const std::string& dir, const std::vector<const SweepRun*>& distinct,
                                       std::vector<const SweepRun*>* missing) {
  std::map<std::string, Json> stored;
  for (const SweepRun* r : distinct) {
    std::optional<Json> s = LoadStoredRun(dir, *r);
    if (s) {
      stored.emplace(r->key, std::move(*s));
    } else {
      missing->push_back(r);
    }
  }
  return stored;
}

void WriteTables(const SweepCommand& cmd, const SweepSpec& spec, const std::vector<SweepRun>& runs,
                 const std::map<std::string, Json>& stored) {
  const SweepTables tables = BuildSweepTables(spec, runs, stored);
  WriteFileAtomically(cmd.output_dir + "/runs.csv", RunsCsv(tables));
  WriteFileAtomically(cmd.output_dir + "/summary.csv", SummaryCsv(tables));
  WriteSweepH5(cmd.output_dir + "/sweep.h5", spec, tables);
}

size_t PointCount(const SweepSpec& spec) {
  size_t points = 1;
  for (const SweepParameter& p : spec.grid) points *= p.values.size();
  return points;
}

int SubmitOrWriteSlurm(const SweepCommand& cmd, const SweepSpec& spec, size_t distinct) {
  CheckSlurmOptions(cmd.slurm_options);
  const std::string dir = fs::absolute(cmd.output_dir).lexically_normal().string();
  const std::string spec_abs = fs::absolute(cmd.spec_path).lexically_normal().string();
  fs::create_directories(dir + "/slurm");
  const std::string name = spec.json.contains("name") && spec.json["name"].is_string()
                               ? spec.json["name"].get<std::string>()
                               : fs::path(spec.file).stem().string();
  const std::string script = dir + "/sweep.sbatch";
  WriteFileAtomically(script, SlurmArrayScript(cmd.slurm_options, name, static_cast<int>(distinct), ThisBinary(),
                                               spec_abs, dir));
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add);
  const int tasks = SlurmArrayTasks(static_cast<int>(distinct), cmd.slurm_options);
  std::cout << "wrote " << script << ": " << distinct << " runs in " << tasks << " array tasks\n";
  if (!cmd.submit) {
    std::cout << "submit with: sbatch " << ShellQuote(script) << "\n";
  } else {
    const std::string command = "sbatch --parsable " + ShellQuote(script) + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw InputError("cannot run sbatch");
    std::string output;
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe)) output += buf;
    const int status = ::pclose(pipe);
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    if (status != 0) {
      std::cerr << "gpuslice: sbatch failed: " << output << "\n";
      return 1;
    }
    const std::string job = output.substr(0, output.find(';'));  // "id[;cluster]"
    std::cout << "submitted job " << job << "\n";
  }
  std::cout << "when it has ended: gpuslice sweep " << ShellQuote(cmd.spec_path) << " -o "
            << ShellQuote(cmd.output_dir) << " --merge\n";
  return 0;
}

}  // namespace

CLI::App* AddSweepCommand(CLI::App& app, SweepCommand* cmd) {
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run a grid of parameters x policy runs x seeds, resumable, on local cores or a Slurm job array");
  sweep->add_option("spec", cmd->spec_path, "Sweep spec JSON file (docs/sweeps.md)")->required();
  sweep->add_option("-o,--output", cmd->output_dir, "Sweep folder: runs/, runs.csv, summary.csv, sweep.h5")
      ->required()
      ->check(OutputPath(/*folder=*/true));
  sweep->add_option("-j,--jobs", cmd->jobs, "Runs in parallel (default: every core)")->check(IntegerIn(1, 4096));
  sweep->add_flag("--no-helper-threads", cmd->no_helper_threads, kNoHelperThreadsHelp);
  sweep->add_flag("--json", cmd->json, "Print {\"points\", \"runs\", \"ran\", \"skipped\"} as JSON at the end");
  sweep->add_flag("--slurm", cmd->slurm, "Write DIR/sweep.sbatch, a Slurm job array over the runs, and print how to submit it");
  sweep->add_flag("--submit", cmd->submit, "With --slurm: submit the job array with sbatch");
  sweep->add_flag("--merge", cmd->merge, "Build the tables from the stored runs only (after a Slurm job array)");
  sweep->add_option("--partition", cmd->slurm_options.partition, "Slurm partition (default: the cluster's)");
  sweep->add_option("--time", cmd->slurm_options.time, "Slurm time limit per array task (default 1:00:00)");
  sweep->add_option("--mem", cmd->slurm_options.memory, "Slurm memory per array task (default 4G)");
  sweep->add_option("--chunk-size", cmd->slurm_options.chunk_size, "Runs per Slurm array task (default 10)")
      ->check(IntegerIn(1, 1000000));
  sweep->add_option("--cpus-per-task", cmd->slurm_options.cpus_per_task,
                    "CPUs per Slurm array task; its runs go in parallel (default 1)")
      ->check(IntegerIn(1, 1024));
  sweep->add_option("--task", cmd->task, "Run only chunk K of the runs (what a Slurm array task runs)")
      ->check(IntegerIn(0, std::numeric_limits<int>::max()));
  AddProgressOptions(sweep, &cmd->progress);
  sweep->footer(
      "A spec: {\"scenario\": \"quickstart.json\", \"policies\": [\"kserve\", \"has-gpu\"], \"seeds\": 5,\n"
      "         \"grid\": {\"load_scale\": [0.5, 1, 2], \"models.resnet50.slo_ms\": [100, 200]}}\n"
      "Each run is stored under DIR/runs/ by a key of its resolved scenario and seed: running the same\n"
      "command again skips what is stored. Examples:\n"
      "  gpuslice sweep study.json -o results/study -j 2\n"
      "  gpuslice sweep study.json -o results/study --slurm --partition batch --submit\n"
      "  gpuslice sweep study.json -o results/study --merge");
  return sweep;
}

int ExecuteSweep(const SweepCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&]() -> int {
    if ((cmd.slurm ? 1 : 0) + (cmd.merge ? 1 : 0) + (cmd.task >= 0 ? 1 : 0) > 1) {
      throw InputError("--slurm, --merge and --task exclude each other");
    }
    if (cmd.submit && !cmd.slurm) throw InputError("--submit needs --slurm");
    if (cmd.slurm) CheckSlurmOptions(cmd.slurm_options);
    if (const std::string problem = OutputPathProblem(cmd.output_dir, /*folder=*/true); !problem.empty()) {
      throw InputError("--output '" + cmd.output_dir + "': " + problem);
    }
    std::error_code ec;
    const SweepSpec spec = LoadSweepSpec(cmd.spec_path);
    const std::vector<SweepRun> runs = PlanSweep(spec);
    const std::vector<const SweepRun*> distinct = DistinctRuns(runs);
    // Every check before the folder is made: a bad invocation leaves nothing.
    std::vector<const SweepRun*> chunk = distinct;
    if (cmd.task >= 0) {
      const size_t size = static_cast<size_t>(cmd.slurm_options.chunk_size);
      const size_t first = static_cast<size_t>(cmd.task) * size;
      if (first >= distinct.size()) {
        throw InputError("--task " + std::to_string(cmd.task) + ": the sweep has only " +
                         std::to_string(SlurmArrayTasks(static_cast<int>(distinct.size()), cmd.slurm_options)) +
                         " chunks of " + std::to_string(size));
      }
      chunk.assign(distinct.begin() + static_cast<long>(first),
                   distinct.begin() + static_cast<long>(std::min(distinct.size(), first + size)));
    }
    if (cmd.merge && !fs::is_directory(cmd.output_dir, ec)) {
      throw InputError("--output '" + cmd.output_dir + "': no such sweep folder (--merge reads the runs stored there)");
    }
    ThrowIfInterrupted();
    // A sweep folder this invocation makes goes again if it ends (error or interruption) with
    // no run stored in it; one that holds runs is kept for the next invocation to go on.
    const bool fresh = !fs::exists(cmd.output_dir, ec);
    auto discard_if_empty = [&] {
      std::error_code e;
      if (!fresh || !fs::is_empty(cmd.output_dir + "/runs", e) || e) return;
      for (const char* name : {"/spec.json", "/runs", "/slurm", ""}) fs::remove(cmd.output_dir + name, e);  // folders if empty
    };
    size_t skipped = 0;
    int ran = 0;
    try {
      fs::create_directories(cmd.output_dir + "/runs", ec);
      if (ec) throw InputError("--output '" + cmd.output_dir + "': cannot create the sweep folder: " + ec.message());
      WriteFileAtomically(cmd.output_dir + "/spec.json",
                          spec.json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
      if (cmd.slurm) return SubmitOrWriteSlurm(cmd, spec, distinct.size());
      std::vector<const SweepRun*> todo;
      skipped = LoadStored(cmd.output_dir, chunk, &todo).size();
      if (!cmd.merge) ran = RunLocally(cmd, spec, todo, interrupted, cmd.jobs);
    } catch (const SweepInterrupted&) {
      discard_if_empty();
      return 130;
    } catch (...) {
      discard_if_empty();
      throw;
    }

    if (cmd.task >= 0) {
      if (!cmd.progress.quiet) std::cerr << "task " << cmd.task << ": ran " << ran << ", skipped " << skipped << "\n";
      return 0;
    }
    std::vector<const SweepRun*> missing;
    const std::map<std::string, Json> stored = LoadStored(cmd.output_dir, distinct, &missing);
    if (!missing.empty()) {
      std::cerr << "gpuslice: " << missing.size() << " of " << distinct.size() << " runs are not stored in "
                << cmd.output_dir << "/runs yet (the first: " << RunLabel(spec, *missing.front()) << ", key "
                << missing.front()->key << "); no tables written\n";
      return 1;
    }
    WriteTables(cmd, spec, runs, stored);
    const size_t points = PointCount(spec);
    if (cmd.json) {
      std::cout << Json{{"points", points}, {"runs", runs.size()}, {"distinct_runs", distinct.size()},
                        {"ran", ran}, {"skipped", skipped}, {"folder", cmd.output_dir}}
                       .dump(-1, ' ', false, Json::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << "sweep " << spec.file << ": " << points << " points, " << runs.size() << " runs ("
                << distinct.size() << " distinct): ran " << ran << ", " << skipped << " already stored\n"
                << "wrote " << cmd.output_dir << "/runs.csv, summary.csv, sweep.h5\n";
    }
    return 0;
  });
}

}  // namespace gpuslice
