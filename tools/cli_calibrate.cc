#include "tools/cli_calibrate.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "gpu/calibrate/local_gpu.h"
#include "sim/util/error.h"
#include "tools/cli_util.h"

namespace gpuslice {
namespace fs = std::filesystem;

std::string FindZoo(const std::string& argv0) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  const fs::path dir = exe.parent_path();
  candidates = {dir / "zoo", dir / "../../gpu/calibrate/zoo", dir / "../gpu/calibrate/zoo"};
#ifdef GPUSLICE_SOURCE_ZOO
  candidates.emplace_back(GPUSLICE_SOURCE_ZOO);
#endif
  for (const fs::path& c : candidates) {
    if (fs::exists(c / "resnet50.json", ec)) return fs::weakly_canonical(c, ec).string();
  }
  throw InputError("cannot find the zoo folder (gpu/calibrate/zoo) beside the binary; give it with --zoo");
}

void AddCalibrateOptions(CLI::App* app, CalibrateCommand* cmd) {
  CalibrationOptions& o = cmd->options;
  cmd->quota_percents.clear();
  for (double q : o.quotas) cmd->quota_percents.push_back(100 * q);
  app->add_option("--models", o.models, "Zoo models (default: all of gpu/calibrate/zoo)")->delimiter(',');
  app->add_option("--batches", o.batches, "Batch sizes (default 1,2,4,8,16,32)")
      ->delimiter(',')
      ->check(IntegerIn(1, 4096));
  app->add_option("--sm-steps", o.sm_counts, "SM counts of the partitions (default: every size the GPU allows)")
      ->delimiter(',')
      ->check(IntegerIn(1, 100000));
  app->add_option("--quotas", cmd->quota_percents, "Time quotas in percent (default 10,20,...,100)")
      ->delimiter(',')
      ->check(NumberIn(0, true, 100, false));
  app->add_option("--repetitions", o.repetitions, "Timed runs per point (default 10)")->check(IntegerIn(1, 1000000));
  app->add_option("--warmup", o.warmup, "Untimed runs before each (partition, model, batch) (default 5)")
      ->check(IntegerIn(0, 1000000));
  app->add_option("--window-ms", o.window_ms, "Token window of the quota gate (default 40)")
      ->check(NumberIn(0.1, false, 1e7, false));
  app->add_option("--sequence", o.sequence, "Tokens per sample for sequence models (default: the zoo's, 128)")
      ->check(IntegerIn(1, 1000000));
  app->add_option("--pair-batch", o.pair_batch, "Batch of the co-located pairs (default 8)")->check(IntegerIn(1, 4096));
  app->add_flag("--no-pairs", cmd->no_pairs, "Skip the co-located pairs");
  app->add_option("--holdout", o.holdout, "Fit: random fraction of points held out (default 0.2)")
      ->check(NumberIn(0, true, 1, true));
  app->add_option("--seed", o.seed, "Fit: seed of the hold-out draw (default 1)")->check(SeedCheck());
  app->add_option("--zoo", cmd->zoo, "Folder of zoo JSON files (default: found beside the binary)");
  app->add_option("--device", cmd->device, "CUDA device index (default 0)")->check(IntegerIn(0, 1023));
  app->add_flag("--plan", cmd->plan, "Print what would be measured and exit (no GPU needed)");
  app->add_flag("--check", cmd->check,
                "Check the GPU and its libraries (a green-context partition and the whole GPU, a convolution model and a "
                "GEMM model on each, a pair side by side); measure nothing; exit 1 if a check fails");
  app->add_flag("--resume", o.resume, "Continue DIR.partial left by an interrupted run (or start it); same options");
  app->add_option("--time-budget-s", o.budget_s,
                  "Stop after this many seconds, keeping DIR.partial for --resume (exit 75); 0 = no limit")
      ->check(NumberIn(0, false, 1e9, false));
  app->add_option("-o,--output", o.output_dir, "Output folder (must not exist)")->check(OutputPath(/*folder=*/true));
  app->footer(
      "Writes DIR/measurements/<model>.csv (every repetition), DIR/profiles/<model>.csv (the simulator's format),\n"
      "DIR/fit.json, DIR/interference.csv, DIR/units.csv and DIR/metadata.json. Exit codes: 69 no usable GPU;\n"
      "75 the time budget is spent (run again with --resume); 130 interrupted (DIR.partial kept).\n"
      "Example:\n  gpuslice calibrate --models resnet50 --batches 1,8 --sm-steps 16,32,132 -o calib-h100");
}

int ExecuteCalibrate(CalibrateCommand& cmd, const std::atomic<bool>& interrupted) {
  const char* prog = "gpuslice calibrate";
  try {
    CalibrationOptions& o = cmd.options;
    o.quotas.clear();
    for (double p : cmd.quota_percents) o.quotas.push_back(p / 100.0);
    o.pairs = !cmd.no_pairs;
    o.zoo_dir = cmd.zoo.empty() ? FindZoo(cmd.argv0) : cmd.zoo;
    o.interrupted = &interrupted;
    if (cmd.plan) {
      // The same checks as a calibration's, but for the output folder, which a plan does not write.
      CalibrationOptions checked = o;
      checked.output_dir = "/nonexistent/gpuslice-calibrate-plan";
      checked.resume = false;
      ValidateCalibrationOptions(checked);
      if (o.output_dir.empty()) o.output_dir = "(none)";
      DescribePlan(o, std::cout);
      return 0;
    }
    if (!cmd.check) {
      ValidateCalibrationOptions(o);
      // DIR.partial is made beside DIR, then renamed: both need a folder that can be made.
      for (const std::string& dir : {o.output_dir, o.output_dir + ".partial"}) {
        if (const std::string problem = OutputPathProblem(dir, /*folder=*/true); !problem.empty()) {
          throw InputError("--output '" + dir + "': " + problem);
        }
      }
    }
    ThrowIfInterrupted();
    std::unique_ptr<CalibrationDevice> device = OpenLocalGpu(cmd.device);
    const DeviceInfo& info = device->info();
    std::cout << prog << ": " << info.name << ", " << info.sm_count << " SMs, partitions from " << info.min_partition_sms
              << " SMs in steps of " << info.partition_alignment_sms << ", " << info.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (cmd.check) {
      const DeviceCheck check = CheckDevice(o, *device);
      for (const std::string& line : check.lines) std::cout << prog << ": " << line << "\n";
      std::cout << prog << ": " << (check.ok ? "every check passed" : "a check failed") << "\n";
      return check.ok ? 0 : 1;
    }
    RunCalibration(o, *device, std::cout);
    return 0;
  } catch (const NoGpuError& e) {
    std::cerr << prog << ": no GPU: " << e.what() << "\n";
    return kExitNoGpu;
  } catch (const CalibrationInterrupted& e) {
    std::cerr << prog << ": " << e.what() << "\n";
    return e.budget_spent() ? kExitBudgetSpent : 130;
  } catch (const Interrupted&) {
    std::cerr << prog << ": interrupted; nothing written\n";
    return 130;
  } catch (const InputError& e) {
    std::cerr << prog << ": error: " << e.what() << "\n";
    return 2;
  } catch (const GpuError& e) {
    std::cerr << prog << ": GPU error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << prog << ": internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace gpuslice
