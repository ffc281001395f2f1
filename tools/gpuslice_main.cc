// The gpuslice command line.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "sim/policies/policy.h"
#include "sim/util/interrupt.h"
#include "tools/cli_run.h"
#include "tools/cli_calibrate.h"
#include "tools/cli_capacity.h"
#include "tools/cli_perf.h"
#include "tools/cli_plot.h"
#include "tools/cli_sweep.h"
#include "tools/cli_trace.h"
#include "tools/cli_util.h"
#include "traces/workload.h"

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
  CLI::App app{"gpuslice: a discrete-event simulator of GPU inference serving.\n"
               "Policies: " + gpuslice::PolicyRegistry::Names(),
               "gpuslice"};
  app.set_version_flag("--version", GPUSLICE_VERSION);
  app.require_subcommand(1);

  gpuslice::RunCommand run_cmd;
  CLI::App* run = app.add_subcommand("run", "Run one policy on a scenario");
  gpuslice::AddRunOptions(run, &run_cmd);
  run->add_option("-p,--policy", run_cmd.policies, "Policy run of the scenario, or a registered policy name")
      ->check(gpuslice::NonEmpty());
  run->footer(
      "Examples:\n"
      "  gpuslice run scenarios/quickstart.json\n"
      "  gpuslice run scenarios/quickstart.json --policy kserve --seed 7 --summary-json out.json\n"
      "  gpuslice run scenarios/quickstart.json --set models.resnet50.slo_ms=150 --per-request");

  gpuslice::RunCommand compare_cmd;
  compare_cmd.compare = true;
  CLI::App* compare = app.add_subcommand("compare", "Run several policies on a scenario, side by side");
  gpuslice::AddRunOptions(compare, &compare_cmd);
  compare->add_option("--policies", compare_cmd.policies, "Comma-separated policy runs (default: all in the scenario)")
      ->check(gpuslice::NonEmpty());
  compare->add_option("-j,--jobs", compare_cmd.jobs, "Runs in parallel (default: every core)")->check(gpuslice::IntegerIn(1, 4096));
  compare->footer(
      "Examples:\n"
      "  gpuslice compare scenarios/quickstart.json\n"
      "  gpuslice compare scenarios/quickstart.json --policies kserve,knative-defaults -o results/q.h5");

  std::string validate_path;
  std::vector<std::string> validate_sets;
  CLI::App* validate = app.add_subcommand("validate", "Check a scenario and print it fully resolved");
  validate->add_option("scenario", validate_path, "Scenario JSON file")->required();
  validate->add_option("--set", validate_sets, "Override a scenario value: json.path=value (repeatable)");
  validate->footer("Prints the scenario fully resolved (every default, every policy run's config, absolute paths) on\n"
                   "stdout, loadable as a scenario that runs the same; the check's verdict goes to stderr.\n"
                   "Example:\n  gpuslice validate scenarios/quickstart.json > resolved.json");

  gpuslice::RerunCommand rerun_cmd;
  CLI::App* rerun = gpuslice::AddRerunCommand(app, &rerun_cmd);

  gpuslice::ValidateGpuCommand vgpu_cmd;
  vgpu_cmd.backend.name = "cuda";
  CLI::App* vgpu = app.add_subcommand(
      "validate-gpu", "Run a scenario on the simulator and on the local GPU; print the metrics side by side with the gaps");
  gpuslice::AddValidateGpuOptions(vgpu, &vgpu_cmd);
  vgpu->footer(
      "The simulator runs with the scenario's profiles (point them at the profiles calibrated on this GPU); the GPU\n"
      "backend executes the same arrivals in real time with the policy code unchanged. Exit code 69: no usable GPU.\n"
      "Examples:\n"
      "  gpuslice validate-gpu scenarios/validation/static-slices-h100.json\n"
      "  gpuslice validate-gpu scenarios/validation/static-slices-h100.json --backend simulated-device --time-scale 0.2");

  gpuslice::TraceCommand trace_cmd;
  CLI::App* trace = app.add_subcommand("trace", "Inspect and convert request traces");
  trace->require_subcommand(1);
  std::vector<std::string> trace_formats = gpuslice::TraceFormats();
  trace_formats.push_back("stages");
  auto add_trace_options = [&](CLI::App* sub) {
    sub->add_option("file", trace_cmd.file, "Trace file")->required();
    sub->add_option("-f,--format", trace_cmd.format,
                    "csv, azure-functions-2019, azure-functions-2021, azure-llm, alibaba-genai, mooncake, "
                    "or stages")
        ->required()
        ->check(gpuslice::OneOf(trace_formats));
    sub->add_option("--function", trace_cmd.function, "Function name for single-service traces (azure-llm, mooncake)");
    sub->add_option("--set", trace_cmd.sets, "A key of the workload source: key=value (e.g. spread=uniform)");
    sub->add_flag("--skip-bad-rows", trace_cmd.skip_bad_rows, "Skip and count malformed rows instead of stopping");
  };
  CLI::App* info = trace->add_subcommand("info", "Requests, span, functions, rates and burstiness of a trace");
  add_trace_options(info);
  info->add_flag("--json", trace_cmd.json, "Print JSON");
  info->add_option("--top", trace_cmd.top, "How many top functions to list (default 10)")
      ->check(gpuslice::IntegerIn(0, 1000000));
  info->footer(
      "Examples:\n"
      "  gpuslice trace info invocations_per_function_md.anon.d01.csv -f azure-functions-2019\n"
      "  gpuslice trace info AzureLLMInferenceTrace_conv.csv -f azure-llm --function conv --json\n"
      "  gpuslice trace info lora_request_trace.csv -f alibaba-genai --set spread=uniform --skip-bad-rows");
  CLI::App* convert = trace->add_subcommand("convert", "Write a trace as the plain CSV (time_s,function[,tokens])");
  add_trace_options(convert);
  convert->add_option("-o,--output", trace_cmd.output, "CSV file to write")->required()->check(gpuslice::OutputPath());
  convert->add_flag("--force", trace_cmd.force, "Overwrite an existing CSV file");
  convert->footer("Example:\n  gpuslice trace convert Azure2021_200.csv -f azure-functions-2021 -o azure2021.csv");

  gpuslice::PerfCommand perf_cmd;
  CLI::App* perf = app.add_subcommand("perf", "Query and check the performance model");
  perf->require_subcommand(1);
  CLI::App* predict = perf->add_subcommand("predict", "Predict one batch's latency in ms");
  predict->add_option("--profiles", perf_cmd.profiles, "A profile CSV or a folder of them")->required();
  predict->add_option("--model", perf_cmd.model, "Model name (the profile's model column)")->required();
  predict->add_option("--batch", perf_cmd.batch, "Batch size")->required()->check(gpuslice::IntegerIn(1, 4096));
  // The slice is of a notional 1000-SM GPU: 0.1 % is one SM.
  predict->add_option("--sm-percent", perf_cmd.sm_percent, "SM share, percent")
      ->required()
      ->check(gpuslice::NumberIn(0.1, false, 100, false));
  predict->add_option("--quota-percent", perf_cmd.quota_percent, "Time quota, percent")
      ->required()
      ->check(gpuslice::NumberIn(0.1, false, 100, false));
  predict->add_option("--predictor", perf_cmd.predictor.name, "oracle (the truth), profile (coarse grid) or learned")
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            if (gpuslice::IsPredictorName(name)) return std::string();
            return "'" + name + "' is not a predictor (" + gpuslice::PredictorNames() + ")";
          },
          "NAME"));
  predict->add_option("--sm-stride", perf_cmd.predictor.sm_stride, "profile predictor: keep every n-th SM share")
      ->check(gpuslice::IntegerIn(1, 100));
  predict->add_option("--quota-stride", perf_cmd.predictor.quota_stride, "profile predictor: keep every n-th quota")
      ->check(gpuslice::IntegerIn(1, 100));
  predict->add_option("--token-window-ms", perf_cmd.token_window_ms, "Token scheduler window (default 40)")
      ->check(gpuslice::NumberIn(0.1, false, 1e7, false));
  predict->add_flag("--json", perf_cmd.json, "Print JSON");
  predict->footer(
      "Example:\n  gpuslice perf predict --profiles gpu/profiles/v100 --model resnet50 --batch 4 "
      "--sm-percent 30 --quota-percent 50 --predictor learned");
  CLI::App* check = perf->add_subcommand("check", "Error of the model on a measured grid it did not see");
  check->add_option("profile", perf_cmd.profiles, "Profile CSV")->required();
  check->add_option("--token-window-ms", perf_cmd.token_window_ms, "Token scheduler window (default 40)")
      ->check(gpuslice::NumberIn(0.1, false, 1e7, false));
  check->add_flag("--json", perf_cmd.json, "Print JSON");
  check->footer("Example:\n  gpuslice perf check gpu/profiles/v100/mobilenet_v3_large.csv");

  gpuslice::PerfCommand fit_cmd;
  CLI::App* fit = app.add_subcommand("fit", "Measurements to a profile, with the model's held-out error");
  fit->add_option("measurements", fit_cmd.profiles, "Measurements CSV (profile columns, one row per repetition)")
      ->required();
  fit->add_option("-o,--output", fit_cmd.output, "Profile CSV to write (medians, spread)")->check(gpuslice::OutputPath());
  fit->add_option("--holdout", fit_cmd.holdout, "Random fraction of points held out (default 0.2)")
      ->check(gpuslice::NumberIn(0, true, 1, true));
  fit->add_option("--seed", fit_cmd.seed, "Seed of the hold-out draw (default 1)")->check(gpuslice::SeedCheck());
  fit->add_flag("--force", fit_cmd.force, "Overwrite an existing profile");
  fit->add_flag("--json", fit_cmd.json, "Print JSON");
  fit->footer("Example:\n  gpuslice fit gpu/profiles/v100/resnet50.csv -o /tmp/resnet50-profile.csv");

  gpuslice::CapacityCommand capacity_cmd;
  gpuslice::CalibrateCommand calibrate_cmd;
  calibrate_cmd.argv0 = argv[0];
  CLI::App* calibrate = app.add_subcommand(
      "calibrate", "Measure the zoo's models on SM partitions and time quotas of the local GPU; fit profiles");
  gpuslice::AddCalibrateOptions(calibrate, &calibrate_cmd);

  CLI::App* capacity = app.add_subcommand("capacity", "The largest load scale at which a policy meets its SLO attainment");
  capacity->add_option("scenario", capacity_cmd.scenario_path, "Scenario JSON file")->required();
  capacity->add_option("-p,--policy", capacity_cmd.policy, "Policy run of the scenario, or a registered policy name")
      ->required()
      ->check(gpuslice::NonEmpty());
  capacity->add_option("--attainment", capacity_cmd.options.attainment, "Target SLO attainment (default 0.99)")
      ->check(gpuslice::NumberIn(0, true, 1, false));
  capacity->add_option("--tolerance", capacity_cmd.options.tolerance, "Relative width of the final bracket (default 0.01)")
      ->check(gpuslice::NumberIn(0, true, 1, true));
  capacity->add_option("--max-runs", capacity_cmd.options.max_runs, "Most load levels tried, each over every seed (default 40)")
      ->check(gpuslice::IntegerIn(1, 10000));
  capacity->add_option("--seed", capacity_cmd.seed, "Override the scenario's seed (the first seed with --seeds)")
      ->check(gpuslice::SeedCheck());
  capacity->add_option("--seeds", capacity_cmd.seeds,
                       "Run every load level over N seeds (seed, seed+1, ...): mean attainment with a 95% CI")
      ->check(gpuslice::IntegerIn(1, 1000));
  capacity->add_option("--set", capacity_cmd.sets, "Override a scenario value: json.path=value (repeatable)");
  capacity->add_option("--load-scale", capacity_cmd.load_scale,
                       "The base load: sets the scenario's load_scale; the scales reported are multiples of it")
      ->check(gpuslice::NumberIn(0, true, gpuslice::kMaxLoadScale, false));
  capacity->add_flag("--json", capacity_cmd.json, "Print JSON");
  capacity->footer("Examples:\n  gpuslice capacity scenarios/quickstart.json --policy slices --attainment 0.99\n"
                   "  gpuslice capacity scenarios/gpulet-mix.json --policy gpulet --seeds 5 --json");

  gpuslice::SweepCommand sweep_cmd;
  CLI::App* sweep = gpuslice::AddSweepCommand(app, &sweep_cmd);

  gpuslice::PlotCommand plot_cmd;
  CLI::App* plot = gpuslice::AddPlotCommand(app, &plot_cmd);

  // A first word that is no command: say which (CLI11 would say only that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    try {
      app.get_subcommand(argv[1]);
    } catch (const CLI::OptionNotFound&) {
      std::string commands;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        commands += (commands.empty() ? "" : ", ") + sub->get_name();
      }
      std::cerr << "gpuslice: error: '" << argv[1] << "' is not a command (" << commands << ")\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return gpuslice::PrintParseError(e, "gpuslice");
  }

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  // Every command maps its own errors to exit codes (GuardedCommand, tools/cli_util.h); this
  // is the last resort, so that nothing escapes as a crash.
  const int code = gpuslice::GuardedCommand([&]() -> int {
    if (validate->parsed()) return gpuslice::ExecuteValidate(validate_path, validate_sets);
    if (vgpu->parsed()) {
      vgpu_cmd.backend.argv0 = argv[0];
      return gpuslice::ExecuteValidateGpu(vgpu_cmd, g_interrupted);
    }
    if (info->parsed()) return gpuslice::ExecuteTraceInfo(trace_cmd);
    if (fit->parsed()) return gpuslice::ExecuteFit(fit_cmd);
    if (calibrate->parsed()) return gpuslice::ExecuteCalibrate(calibrate_cmd, g_interrupted);
    if (capacity->parsed()) return gpuslice::ExecuteCapacity(capacity_cmd, g_interrupted);
    if (plot->parsed()) return gpuslice::ExecutePlot(plot_cmd);
    if (sweep->parsed()) return gpuslice::ExecuteSweep(sweep_cmd, g_interrupted);
    if (rerun->parsed()) {
      rerun_cmd.command_line = command_line;
      return gpuslice::ExecuteRerun(rerun_cmd, g_interrupted);
    }
    if (predict->parsed()) return gpuslice::ExecutePerfPredict(perf_cmd);
    if (check->parsed()) return gpuslice::ExecutePerfCheck(perf_cmd);
    if (convert->parsed()) return gpuslice::ExecuteTraceConvert(trace_cmd);
    gpuslice::RunCommand& cmd = run->parsed() ? run_cmd : compare_cmd;
    cmd.command_line = command_line;
    cmd.backend.argv0 = argv[0];
    return gpuslice::ExecuteRun(cmd, g_interrupted);
  });
  // What went to stdout must have arrived (a full disk, a closed pipe): else the answer is lost.
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || std::cout.fail()) {
    const int err = errno;
    if (code == 0) {
      std::cerr << "gpuslice: error: cannot write to stdout" << (err ? std::string(": ") + std::strerror(err) : "")
                << "\n";
      return 2;
    }
  }
  return code;
}
