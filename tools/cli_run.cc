#include "tools/cli_run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>

#include "gpu/calibrate/device.h"
#include "sim/output_writer.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/summary_json.h"
#include "sim/util/error.h"
#include "sim/util/hash.h"
#include "tools/cli_util.h"
#include "tools/parallel.h"
#include "tools/table.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

std::string LoadScaleText(double x) {
  return nlohmann::ordered_json(x).dump();
}

// The --set overrides that change the scenario, in the order given.
std::vector<std::string> ScenarioOverrides(const RunCommand& cmd) {
  std::vector<std::string> sets = cmd.sets;
  if (cmd.load_scale > 0) sets.push_back("load_scale=" + LoadScaleText(cmd.load_scale));
  return sets;
}

std::vector<std::string> Overrides(const RunCommand& cmd) {
  std::vector<std::string> sets = ScenarioOverrides(cmd);
  if (cmd.seed >= 0) sets.push_back("seed=" + std::to_string(cmd.seed));
  if (cmd.per_request) sets.push_back("output.per_request=true");
  return sets;
}

// A scenario's or run's name as part of a file name: letters, digits, '.', '_', '-' and '+'
// kept, anything else (a '/', a NUL, a space) and a leading '.' made '_', so that the file
// stays in results/ whatever the name.
std::string SafeName(const std::string& name) {
  std::string safe;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-' || c == '+';
    safe += keep ? c : '_';
  }
  if (safe.empty()) return "unnamed";
  if (safe.front() == '.') safe.front() = '_';
  return safe;
}

// results/<scenario>-<run or "compare">-seed<seed>[-<hash of the overrides and compare's
// --policies>].h5: invocations that differ in seed, overrides or runs never share a name.
std::string DefaultOutput(const RunCommand& cmd, const Scenario& scenario, const std::string& what) {
  std::string name = "results/" + SafeName(scenario.name) + "-" + SafeName(what) + "-seed" + std::to_string(scenario.seed);
  std::vector<std::string> sets = ScenarioOverrides(cmd);
  if (cmd.compare && !cmd.policies.empty()) sets.push_back("--policies " + cmd.policies);
  if (!sets.empty()) {
    std::string joined;
    for (const std::string& s : sets) joined += s + "\n";
    name += "-" + StableHashHex(joined, 8);
  }
  return name + ".h5";
}

// What the runs of one invocation share while they run, possibly on several threads.
struct RunSet {
  const Scenario& scenario;
  const std::vector<PolicyRunSpec>& runs;
  ResultFile* file;
  GpuBackend* backend;
  ProgressLine* progress;
  bool quiet;
  const std::atomic<bool>& interrupted;
  std::vector<std::optional<RunResult>> results;
  bool gpu_errors = false;
  std::mutex mutex;
  bool helper_threads = false;
};

void RunOne(RunSet& set, size_t i) {
  const PolicyRunSpec& run = set.runs[i];
  if (set.interrupted.load()) throw Interrupted();
  if (!set.quiet) {
    set.progress->Print("running " + run.run_name + " (" + run.policy + ") on " + set.scenario.name +
                        (set.backend ? " on " + set.backend->device_name() + " in real time" : std::string()) +
                        " ...\n");
  }
  RunOptions options;
  options.interrupted = &set.interrupted;
  options.keep_actions = false;  // streamed to the file (or not wanted): memory flat in time
  options.progress = set.progress->ForRun(static_cast<int>(i));
  options.helper_threads = set.helper_threads;
  std::unique_ptr<ResultRun> stored;
  if (set.file) {
    stored = set.file->BeginRun(run.run_name, set.scenario);
    options.request_sink = stored->request_sink();
    options.series_sink = stored->series_sink();
    options.action_sink = stored->action_sink();
  }
  if (set.backend) set.backend->PrepareRun(&options);
  RunResult r;
  try {
    r = RunSimulation(set.scenario, run, options);
  } catch (...) {
    if (stored) set.file->DiscardRun(std::move(stored));
    throw;
  }
  if (set.backend) {
    std::lock_guard<std::mutex> lock(set.mutex);
    set.gpu_errors = !set.backend->FinishRun(std::cerr) || set.gpu_errors;
  }
  if (stored) set.file->EndRun(std::move(stored), r, set.scenario);
  set.progress->RunDone(static_cast<int>(i));
  if (!set.quiet) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.3g", r.wall_s > 0 ? static_cast<double>(r.overall.arrived) / r.wall_s : 0.0);
    std::string line = "  " + run.run_name + ": " + std::to_string(r.overall.arrived) + " requests, " +
                       std::to_string(r.events) + " events in " + std::to_string(r.wall_s) + " s (" + rate +
                       " requests/s)\n";
    if (r.skipped_rows > 0) {
      line += "  skipped " + std::to_string(r.skipped_rows) + " bad trace rows (skip_bad_rows); see workload.skipped_rows\n";
    }
    set.progress->Print(line);
  }
  std::lock_guard<std::mutex> lock(set.mutex);
  set.results[i] = std::move(r);
}

}  // namespace

void AddRunOptions(CLI::App* app, RunCommand* cmd) {
  app->add_option("scenario", cmd->scenario_path, "Scenario JSON file")->required();
  app->add_option("--seed", cmd->seed, "Override the scenario's seed")->check(SeedCheck());
  app->add_option("--set", cmd->sets, "Override a scenario value: json.path=value (repeatable)");
  app->add_option("--load-scale", cmd->load_scale,
                  "Multiply every workload source's rate (sets the scenario's load_scale)")
      ->check(NumberIn(0, true, kMaxLoadScale, false));
  app->add_option("-o,--output", cmd->output,
                  "HDF5 result file (default results/<scenario>-<run>-seed<seed>[-<hash of --set>].h5)")
      ->check(OutputPath());
  app->add_flag("--no-output", cmd->no_output, "Write no HDF5 file");
  app->add_flag("--force", cmd->force, "Overwrite existing output files");
  app->add_flag("--per-request", cmd->per_request, "Add the per-request table to the HDF5 file");
  app->add_flag("--skip-bad-rows", cmd->skip_bad_rows,
                "Trace sources skip and count malformed rows instead of stopping (reported per run)");
  app->add_option("--summary-json", cmd->summary_json, "Also write the summary as JSON to this file")
      ->check(OutputPath());
  app->add_option("--format", cmd->format, "The comparison on stdout: table (default), csv, markdown or json")
      ->check(OneOf({"table", "csv", "markdown", "json"}));
  app->add_flag("--no-helper-threads", cmd->no_helper_threads, kNoHelperThreadsHelp);
  AddProgressOptions(app, &cmd->progress);
  AddBackendOptions(app, &cmd->backend);
}

int ExecuteRun(const RunCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&] {
    const TableFormat format = ParseTableFormat(cmd.format);
    // The paths given first, before any reading: a bad one is the only message.
    if (!cmd.no_output && !cmd.output.empty()) CheckOutputPath(cmd.output, cmd.force, "-o");
    if (!cmd.summary_json.empty()) CheckOutputPath(cmd.summary_json, cmd.force, "--summary-json");
    if (!cmd.no_output && !cmd.output.empty() && !cmd.summary_json.empty()) {
      std::error_code ec;
      if (fs::weakly_canonical(cmd.summary_json, ec) == fs::weakly_canonical(cmd.output, ec)) {
        throw InputError("--summary-json '" + cmd.summary_json + "': the same file as the HDF5 result (-o)");
      }
    }
    const Scenario scenario = LoadScenario(cmd.scenario_path, Overrides(cmd), cmd.skip_bad_rows);
    PrintWarnings(scenario);
    std::vector<PolicyRunSpec> runs = SelectPolicyRuns(scenario, cmd.policies);
    if (!cmd.compare && runs.size() > 1) {
      if (cmd.policies.empty()) {
        runs.resize(1);  // `run` without --policy: the scenario's first policy run
      } else {
        throw InputError("gpuslice run takes one policy; use gpuslice compare for several");
      }
    }
    const std::string output =
        cmd.output.empty() ? DefaultOutput(cmd, scenario, cmd.compare ? "compare" : runs.front().run_name) : cmd.output;
    if (!cmd.no_output) CheckOutputPath(output, cmd.force, "-o");
    if (!cmd.summary_json.empty()) {
      std::error_code ec;
      if (!cmd.no_output && fs::weakly_canonical(cmd.summary_json, ec) == fs::weakly_canonical(output, ec)) {
        throw InputError("--summary-json '" + cmd.summary_json + "': the same file as the HDF5 result (-o)");
      }
    }
    if (!cmd.no_output) {
      for (const PolicyRunSpec& r : runs) {
        if (!IsResultRunName(r.run_name)) {
          throw InputError(scenario.file + ": /policies/" + r.run_name + ": the run's name " + kResultRunNameRule);
        }
      }
    }
    ThrowIfInterrupted();
    std::unique_ptr<ResultFile> file;
    if (!cmd.no_output) file = std::make_unique<ResultFile>(output, scenario.name, cmd.command_line);

    std::unique_ptr<GpuBackend> backend = GpuBackend::Open(cmd.backend, scenario);
    // The GPU backend runs in real time on one device: one run at a time.
    const int threads = backend ? 1 : ThreadsFor(cmd.jobs, runs.size());
    ProgressLine progress(std::cerr, ProgressEnabled(cmd.progress), static_cast<int>(runs.size()));
    RunSet set{scenario, runs, file.get(), backend.get(), &progress, cmd.progress.quiet, interrupted, {}, false, {}};
    set.results.resize(runs.size());
    // The GPU backend's runs keep to one thread, as their clock is the wall's.
    set.helper_threads = !backend && HelperThreadsFit(threads, cmd.no_helper_threads);
    const std::vector<std::exception_ptr> errors = ParallelFor(runs.size(), threads, [&](size_t i) { RunOne(set, i); });
    progress.Finish();
    bool was_interrupted = false;
    for (const std::exception_ptr& e : errors) {
      if (!e) continue;
      try {
        std::rethrow_exception(e);
      } catch (const Interrupted&) {
        was_interrupted = true;
      }  // any other error propagates: no result file
    }
    std::vector<RunResult> finished;
    std::vector<std::string> order;
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!set.results[i]) continue;
      order.push_back(runs[i].run_name);
      finished.push_back(std::move(*set.results[i]));
    }
    if (was_interrupted && finished.empty()) throw Interrupted();

    std::ostream& info = format == TableFormat::kTable ? std::cout : std::cerr;
    if (format == TableFormat::kTable) std::cout << "scenario " << scenario.name << ", seed " << scenario.seed << "\n";
    PrintComparison(std::cout, finished, format, scenario.name);
    // The summary JSON only once the HDF5 result is in place; if it cannot be written, the
    // result goes too: an error leaves no output file.
    const std::string summary_text =
        cmd.summary_json.empty()
            ? std::string()
            : SummaryJson(scenario.name, finished).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                  "\n";
    if (file) file->Commit(order, was_interrupted);
    if (!cmd.summary_json.empty()) {
      try {
        WriteFileAtomically(cmd.summary_json, summary_text);
      } catch (...) {
        std::error_code ec;
        if (file) fs::remove(file->final_path(), ec);
        throw;
      }
    }
    if (file) info << "wrote " << file->final_path() << (was_interrupted ? " (the finished runs only)" : "") << "\n";
    if (was_interrupted) {
      std::cerr << "gpuslice: interrupted; kept the " << finished.size() << " of " << runs.size()
                << " runs that finished\n";
      return 130;
    }
    return set.gpu_errors ? 1 : 0;
  });
}

int ExecuteValidate(const std::string& scenario_path, const std::vector<std::string>& sets) {
  return GuardedCommand([&] {
    const Scenario scenario = LoadScenario(scenario_path, sets);
    PrintWarnings(scenario);
    std::cerr << scenario_path << ": valid: " << scenario.models.size() << " models, "
              << scenario.function_names.size() << " functions, " << scenario.total_gpus() << " GPUs, "
              << scenario.workload.size() << " workload sources, " << scenario.policies.size() << " policy runs\n";
    std::cout << scenario.ToJson().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
  });
}

CLI::App* AddRerunCommand(CLI::App& app, RerunCommand* cmd) {
  CLI::App* rerun = app.add_subcommand(
      "rerun", "Run a stored result again from the scenario it stores, and check the summary is the same");
  rerun->add_option("result", cmd->result_path, "HDF5 result of gpuslice run or compare")->required();
  rerun->add_option("--run", cmd->run, "The run to repeat (default: every run in the file)");
  rerun->add_option("-o,--output", cmd->output, "HDF5 result file (default results/<scenario>-rerun-seed<seed>.h5)")
      ->check(OutputPath());
  rerun->add_flag("--no-output", cmd->no_output, "Write no HDF5 file");
  rerun->add_flag("--force", cmd->force, "Overwrite an existing output file");
  rerun->add_flag("--no-helper-threads", cmd->no_helper_threads, kNoHelperThreadsHelp);
  rerun->footer("Exit code 0: every summary is identical to the stored one; 1: one differs.\n"
                "Example:\n  gpuslice rerun results/quickstart-compare-seed1.h5 --run kserve --no-output");
  return rerun;
}

int ExecuteRerun(const RerunCommand& cmd, const std::atomic<bool>& interrupted) {
  return GuardedCommand([&] {
    struct Stored {
      std::string run;
      nlohmann::ordered_json scenario;
      std::string summary;
    };
    std::vector<Stored> stored;
    try {
      std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
      std::error_code ec;
      if (fs::is_directory(cmd.result_path, ec)) throw InputError(cmd.result_path + ": is a folder, not a result file");
      if (!fs::exists(cmd.result_path, ec)) throw InputError(cmd.result_path + ": no such file");
      if (!fs::is_regular_file(cmd.result_path, ec)) throw InputError(cmd.result_path + ": not a regular file");
      h5::Handle file;
      try {
        file = h5::OpenFileReadOnly(cmd.result_path);
      } catch (const std::exception&) {
        throw InputError(cmd.result_path + ": not an HDF5 file");
      }
      h5::Handle runs = h5::OpenGroupIfExists(file.id(), "runs");
      if (runs.id() < 0) throw InputError(cmd.result_path + ": not a gpuslice result (no /runs)");
      std::vector<std::string> names = h5::ListGroup(runs.id());
      if (h5::HasAttribute(file.id(), "run_order")) {
        names = nlohmann::ordered_json::parse(h5::ReadStringAttribute(file.id(), "run_order")).get<std::vector<std::string>>();
      }
      if (!cmd.run.empty()) {
        if (std::find(names.begin(), names.end(), cmd.run) == names.end()) {
          std::string known;
          for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
          throw InputError(cmd.result_path + ": no run '" + cmd.run + "' (runs: " + known + ")");
        }
        names = {cmd.run};
      }
      for (const std::string& name : names) {
        h5::Handle g = h5::OpenGroupIfExists(runs.id(), name);
        // Schema 3 stores them as datasets of bytes, schema 2 as attributes (docs/hdf5.md).
        auto stored_text = [&](const std::string& key) -> std::optional<std::string> {
          if (g.id() < 0) return std::nullopt;
          try {
            if (h5::HasDataset(g.id(), key)) return h5::ReadTextDataset(g.id(), key);
            if (h5::HasAttribute(g.id(), key)) return h5::ReadStringAttribute(g.id(), key);
          } catch (const std::runtime_error& e) {
            throw InputError(cmd.result_path + ": /runs/" + name + "/" + key + ": " + e.what());
          }
          return std::nullopt;
        };
        const std::optional<std::string> scenario_text = stored_text("scenario_json");
        const std::optional<std::string> summary_text = stored_text("summary_json");
        if (!scenario_text || !summary_text) {
          throw InputError(cmd.result_path + ": /runs/" + name +
                           ": stores no scenario_json and summary_json (written by a gpuslice before schema 2)");
        }
        Stored s{name, nlohmann::ordered_json::parse(*scenario_text), *summary_text};
        stored.push_back(std::move(s));
      }
    } catch (const InputError&) {
      throw;
    } catch (const std::runtime_error& e) {  // HDF5 could not read what it found (a damaged file)
      throw InputError(cmd.result_path + ": not a readable gpuslice result (" + e.what() + ")");
    } catch (const nlohmann::json::exception& e) {
      throw InputError(cmd.result_path + ": a stored JSON text does not parse (" + e.what() + ")");
    }
    if (stored.empty()) throw InputError(cmd.result_path + ": holds no runs");
    std::vector<Scenario> scenarios;
    for (const Stored& s : stored) {
      scenarios.push_back(ParseScenario(s.scenario, cmd.result_path + ": /runs/" + s.run + "/scenario_json",
                                        fs::current_path().string()));
    }
    const Scenario& first = scenarios.front();
    std::string output = cmd.output;
    if (output.empty()) output = "results/" + SafeName(first.name) + "-rerun-seed" + std::to_string(first.seed) + ".h5";
    if (!cmd.no_output) CheckOutputPath(output, cmd.force, "-o");
    std::unique_ptr<ResultFile> file;
    if (!cmd.no_output) file = std::make_unique<ResultFile>(output, first.name, cmd.command_line);
    bool all_same = true;
    std::vector<std::string> order;
    for (size_t i = 0; i < stored.size(); ++i) {
      const Scenario& scenario = scenarios[i];
      const PolicyRunSpec& run = scenario.policies.front();
      RunOptions options;
      options.interrupted = &interrupted;
      options.keep_actions = false;
      options.helper_threads = HelperThreadsFit(1, cmd.no_helper_threads);
      std::unique_ptr<ResultRun> result_run;
      if (file) {
        result_run = file->BeginRun(run.run_name, scenario);
        options.request_sink = result_run->request_sink();
        options.series_sink = result_run->series_sink();
        options.action_sink = result_run->action_sink();
      }
      const RunResult r = RunSimulation(scenario, run, options);
      if (file) file->EndRun(std::move(result_run), r, scenario);
      order.push_back(run.run_name);
      const bool same = RunSummaryJson(r).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) == stored[i].summary;
      all_same = all_same && same;
      std::cout << stored[i].run << ": " << (same ? "reproduced: the summary is identical" : "DIFFERS from the stored summary")
                << "\n";
    }
    if (file) {
      file->Commit(order);
      std::cout << "wrote " << file->final_path() << "\n";
    }
    return all_same ? 0 : 1;
  });
}

}  // namespace gpuslice
