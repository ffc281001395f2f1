// Issue 16: bad input never crashes, hangs or passes silently. Every error a user can cause is
// one line on stderr naming the option (or the path) and what is wrong, exit code 2, and
// nothing new in the output folder; every subcommand stops on SIGINT/SIGTERM with exit 130
// and leaves nothing behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sim/output_writer.h"
#include "sim/util/error.h"
#include "sim/util/files.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `gpuslice ARGS` in `cwd` with stdout and stderr apart (kept outside `cwd`).
Outcome Gpuslice(const std::string& args, const std::string& cwd, const std::string& env = "") {
  static int counter = 0;
  const std::string logs = ::testing::TempDir() + "/cli_errors_logs";
  fs::create_directories(logs);
  const std::string tag = logs + "/" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const std::string command = "cd '" + cwd + "' && " + env + " " + GPUSLICE_BINARY + " " + args + " >" + tag +
                              ".out 2>" + tag + ".err </dev/null";
  const int status = std::system(command.c_str());
  Outcome o;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = ReadAll(tag + ".out");
  o.err = ReadAll(tag + ".err");
  return o;
}

// Every path under `dir`, recursively.
std::set<std::string> Tree(const std::string& dir) {
  std::set<std::string> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    paths.insert(it->path().string());
  }
  return paths;
}

std::string NewPaths(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::string added;
  for (const std::string& p : after) {
    if (!before.count(p)) added += p + " ";
  }
  return added;
}

size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// A folder for one case, holding a short scenario, a profile and a measurements file to
// point the commands at.
struct Workspace {
  std::string dir, scenario, profile, spec, trace;

  explicit Workspace(const std::string& name) {
    dir = ::testing::TempDir() + "/cli_errors/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
    scenario = dir + "/scenario.json";
    std::ofstream(scenario) << j.dump(2);
    profile = testing::SourceDir() + "/gpu/profiles/v100/resnet50.csv";
    spec = dir + "/spec.json";
    std::ofstream(spec) << nlohmann::ordered_json{{"scenario", scenario}}.dump();
    trace = dir + "/trace.csv";
    std::ofstream(trace) << "time_s,function\n0.5,m\n1.0,m\n";
  }
};

// Runs `args` in a fresh workspace (its paths substituted for {scenario}, {profile}, {spec},
// {trace}, {dir}); expects exit 2, one line on stderr holding `needle`, nothing new.
void ExpectRejected(const std::string& name, std::string args, const std::string& needle) {
  SCOPED_TRACE(name + ": gpuslice " + args);
  Workspace w(name);
  auto sub = [&](const std::string& key, const std::string& value) {
    for (size_t at; (at = args.find(key)) != std::string::npos;) args.replace(at, key.size(), value);
  };
  sub("{scenario}", w.scenario);
  sub("{profile}", w.profile);
  sub("{spec}", w.spec);
  sub("{trace}", w.trace);
  sub("{dir}", w.dir);
  const std::set<std::string> before = Tree(w.dir);
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = Gpuslice(args, w.dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(Lines(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find("error: "), std::string::npos) << o.err;
  EXPECT_NE(o.err.find(needle), std::string::npos) << "wanted: " << needle << "\ngot: " << o.err;
  EXPECT_LT(o.err.size(), 300u) << o.err;
  EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
  EXPECT_LT(seconds, 20.0) << "slow to refuse";
}

struct Case {
  const char* name;
  const char* args;
  const char* needle;
};

// 1. Every numeric option is checked as it is parsed.
TEST(CliErrors, BadOptionValuesNameTheOption) {
  const Case cases[] = {
      {"capacity_max_runs_0", "capacity {scenario} -p fixed --max-runs 0", "--max-runs: '0' is not an integer in [1, "},
      {"capacity_max_runs_neg", "capacity {scenario} -p fixed --max-runs=-5", "--max-runs: '-5'"},
      {"capacity_seed_neg", "capacity {scenario} -p fixed --seed=-4", "--seed: '-4' is not an integer in [0, 9223372036854775807]"},
      {"capacity_seed_huge", "capacity {scenario} -p fixed --seed 99999999999999999999",
       "--seed: '99999999999999999999' is not an integer in [0, 9223372036854775807]"},
      {"capacity_seed_frac", "capacity {scenario} -p fixed --seed 1.5", "--seed: '1.5'"},
      {"capacity_seeds_0", "capacity {scenario} -p fixed --seeds 0", "--seeds"},
      {"capacity_attainment_0", "capacity {scenario} -p fixed --attainment 0", "--attainment: '0' is not a number in (0, 1]"},
      {"capacity_attainment_big", "capacity {scenario} -p fixed --attainment 1.01", "--attainment"},
      {"capacity_tolerance_0", "capacity {scenario} -p fixed --tolerance 0", "--tolerance"},
      {"capacity_tolerance_neg", "capacity {scenario} -p fixed --tolerance=-0.1", "--tolerance"},
      {"capacity_load_scale_0", "capacity {scenario} -p fixed --load-scale 0", "--load-scale"},
      {"capacity_load_scale_inf", "capacity {scenario} -p fixed --load-scale inf", "--load-scale: 'inf'"},
      {"capacity_load_scale_nan", "capacity {scenario} -p fixed --load-scale nan", "--load-scale: 'nan'"},
      {"run_seed_neg", "run {scenario} --seed=-1", "--seed"},
      {"run_seed_huge", "run {scenario} --seed 9223372036854775808", "--seed"},
      {"run_load_scale_neg", "run {scenario} --load-scale=-2", "--load-scale"},
      {"run_load_scale_inf", "run {scenario} --load-scale inf", "--load-scale"},
      {"run_format", "run {scenario} --format xml", "--format: 'xml' is not one of table, csv, markdown, json"},
      {"run_time_scale_0", "run {scenario} --backend simulated-device --time-scale 0", "--time-scale"},
      {"run_time_scale_nan", "run {scenario} --backend simulated-device --time-scale nan", "--time-scale"},
      {"run_device_neg", "run {scenario} --device=-1", "--device"},
      {"run_backend", "run {scenario} --backend tpu", "--backend"},
      {"compare_jobs_0", "compare {scenario} -j 0", "--jobs: '0'"},
      {"validate_gpu_seed", "validate-gpu {scenario} --seed=-3", "--seed"},
      {"trace_top_neg", "trace info {trace} -f csv --top=-3", "--top: '-3'"},
      {"predict_batch_0", "perf predict --profiles {profile} --model resnet50 --batch 0 --sm-percent 50 --quota-percent 50",
       "--batch: '0'"},
      {"predict_sm_tiny",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 1e-300 --quota-percent 50",
       "--sm-percent: '1e-300'"},
      {"predict_sm_big", "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 101 --quota-percent 50",
       "--sm-percent"},
      {"predict_quota_tiny",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 1e-300",
       "--quota-percent: '1e-300'"},
      {"predict_quota_0", "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 0",
       "--quota-percent"},
      {"predict_sm_stride_0",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 50 --predictor profile "
       "--sm-stride 0",
       "--sm-stride"},
      {"predict_quota_stride_neg",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 50 --predictor profile "
       "--quota-stride=-2",
       "--quota-stride"},
      {"predict_window_0",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 50 --token-window-ms 0",
       "--token-window-ms"},
      {"predict_predictor",
       "perf predict --profiles {profile} --model resnet50 --batch 1 --sm-percent 50 --quota-percent 50 --predictor tea-leaves",
       "--predictor: 'tea-leaves' is not a predictor"},
      {"check_window_neg", "perf check {profile} --token-window-ms=-40", "--token-window-ms"},
      {"fit_holdout_1", "fit {profile} --holdout 1", "--holdout: '1' is not a number in (0, 1)"},
      {"fit_holdout_0", "fit {profile} --holdout 0", "--holdout"},
      {"fit_seed_neg", "fit {profile} --seed=-1", "--seed"},
      {"calibrate_batches_neg", "calibrate --plan --batches=-1", "--batches: '-1'"},
      {"calibrate_batches_0", "calibrate --plan --batches 1,0", "--batches: '0'"},
      {"calibrate_quotas_0", "calibrate --plan --quotas 0,100", "--quotas: '0'"},
      {"calibrate_quotas_big", "calibrate --plan --quotas 50,150", "--quotas: '150'"},
      {"calibrate_sm_steps_0", "calibrate --plan --sm-steps 0", "--sm-steps"},
      {"calibrate_repetitions_0", "calibrate --plan --repetitions 0", "--repetitions"},
      {"calibrate_warmup_neg", "calibrate --plan --warmup=-1", "--warmup"},
      {"calibrate_window_0", "calibrate --plan --window-ms 0", "--window-ms"},
      {"calibrate_sequence_0", "calibrate --plan --sequence 0", "--sequence"},
      {"calibrate_pair_batch_0", "calibrate --plan --pair-batch 0", "--pair-batch"},
      {"calibrate_holdout", "calibrate --plan --holdout 1.5", "--holdout"},
      {"calibrate_seed", "calibrate --plan --seed=-1", "--seed"},
      {"calibrate_device", "calibrate --plan --device=-1", "--device"},
      {"calibrate_budget", "calibrate --plan --time-budget-s=-5", "--time-budget-s"},
      {"calibrate_quotas_without_100", "calibrate --plan --quotas 50", "--quotas: must include 1"},
      {"sweep_jobs_0", "sweep {spec} -o {dir}/sweep -j 0", "--jobs"},
      {"sweep_chunk_0", "sweep {spec} -o {dir}/sweep --chunk-size 0", "--chunk-size"},
      {"sweep_cpus_0", "sweep {spec} -o {dir}/sweep --cpus-per-task 0", "--cpus-per-task"},
      {"sweep_task_neg", "sweep {spec} -o {dir}/sweep --task=-1", "--task"},
      {"sweep_task_past_end", "sweep {spec} -o {dir}/sweep --task 5", "--task 5"},
      {"sweep_slurm_time", "sweep {spec} -o {dir}/sweep --slurm --time soon", "--time soon"},
      {"unknown_command", "simulate {scenario}", "'simulate' is not a command (run, compare"},
      {"compare_policies_empty", "compare {scenario} --policies ''", "--policies: an empty value"},
      {"run_policy_empty", "run {scenario} -p ''", "--policy: an empty value"},
      {"trace_format", "trace info {trace} -f parquet", "--format: 'parquet' is not one of csv, "},
      {"trace_format_empty", "trace info {trace} -f ''", "--format: '' is not one of"},
      {"rerun_folder", "rerun {dir} --no-output", "is a folder, not a result file"},
      {"plot_kind", "plot {dir}/r.h5 -o {dir}/f.png --kind pie", "--kind: unknown kind 'pie'"},
      {"plot_dpi_0", "plot {dir}/r.h5 -o {dir}/f.png --dpi 0", "--dpi"},
      {"plot_size", "plot {dir}/r.h5 -o {dir}/f.png --size 0x5", "--size: '0x5'"},
  };
  for (const Case& c : cases) ExpectRejected(c.name, c.args, c.needle);
}

// 2. Output paths: a folder, a path under a regular file, a folder that cannot be made.
TEST(CliErrors, BadOutputPathsAreRefusedBeforeAnyWork) {
  // Long enough that running it would time the test out: the refusal comes first.
  const std::string long_run = "--set workload.0.end_s=1e6 --set workload.0.rate_rps=1000";
  const Case cases[] = {
      {"run_o_folder", "run {scenario} -o {dir}", "is a folder"},
      {"run_o_under_file", "run {scenario} -o {dir}/afile/out.h5", "afile is not a folder"},
      {"run_o_under_dev_null", "run {scenario} -o /dev/null/out.h5", "/dev/null is not a folder"},
      {"run_o_trailing_slash", "run {scenario} -o {dir}/new/", "--output"},
      {"run_summary_folder", "run {scenario} --no-output --summary-json {dir}", "--summary-json"},
      {"run_summary_under_file", "run {scenario} --summary-json {dir}/afile/s.json", "--summary-json"},
      {"run_o_exists", "run {scenario} -o {dir}/afile", "exists (use --force"},
      {"run_summary_same_as_o", "run {scenario} -o {dir}/x.h5 --summary-json {dir}/x.h5", "--summary-json"},
      {"compare_o_folder", "compare {scenario} -o {dir}", "--output"},
      {"rerun_o_folder", "rerun {dir}/afile -o {dir}", "--output"},
      {"sweep_o_file", "sweep {spec} -o {dir}/afile", "--output"},
      {"sweep_o_under_file", "sweep {spec} -o {dir}/afile/sweep", "--output"},
      {"fit_o_folder", "fit {profile} -o {dir}", "--output"},
      {"fit_o_exists", "fit {profile} -o {dir}/afile", "afile: exists (use --force"},
      {"fit_o_under_file", "fit {profile} -o {dir}/afile/p.csv", "--output"},
      {"plot_o_folder", "plot {dir}/r.h5 -o {dir}", "--output"},
      {"plot_o_under_file", "plot {dir}/r.h5 -o {dir}/afile/f.png", "--output"},
      {"calibrate_o_under_file", "calibrate --models resnet50 -o {dir}/afile/calib", "--output"},
      {"calibrate_o_file", "calibrate --models resnet50 -o {dir}/afile", "--output"},
      {"validate_gpu_json_under_file", "validate-gpu {scenario} --json {dir}/afile/v.json", "--json"},
      {"convert_o_exists", "trace convert {trace} -f csv -o {dir}/afile", "exists (use --force"},
      {"convert_o_is_input", "trace convert {trace} -f csv -o {trace} --force", "trace.csv"},
      {"convert_o_folder", "trace convert {trace} -f csv -o {dir}", "--output"},
  };
  for (const Case& c : cases) {
    std::string args = c.args;
    if (args.rfind("run ", 0) == 0 || args.rfind("compare ", 0) == 0) args += " " + long_run;
    // Every workspace has {dir}/afile, a regular file.
    Workspace w(c.name);
    std::ofstream(w.dir + "/afile") << "x";
    SCOPED_TRACE(c.name);
    std::string expanded = args;
    auto sub = [&](const std::string& key, const std::string& value) {
      for (size_t at; (at = expanded.find(key)) != std::string::npos;) expanded.replace(at, key.size(), value);
    };
    sub("{scenario}", w.scenario);
    sub("{profile}", w.profile);
    sub("{spec}", w.spec);
    sub("{trace}", w.trace);
    sub("{dir}", w.dir);
    const std::set<std::string> before = Tree(w.dir);
    const auto start = std::chrono::steady_clock::now();
    const Outcome o = Gpuslice(expanded, w.dir);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(o.exit_code, 2) << expanded << "\n" << o.err;
    EXPECT_EQ(Lines(o.err), 1u) << o.err;
    EXPECT_NE(o.err.find(c.needle), std::string::npos) << "wanted: " << c.needle << "\ngot: " << o.err;
    EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
    EXPECT_LT(seconds, 20.0);
  }
}

// A scenario's name never takes the default result file out of results/.
TEST(CliErrors, DefaultOutputNamesStayInResults) {
  for (const std::string& name : {std::string("../escaped"), std::string("a/b"), std::string("/tmp/abs")}) {
    SCOPED_TRACE(name);
    Workspace w("default_name");
    fs::create_directories(w.dir + "/cwd");
    nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
    j["name"] = name;
    std::ofstream(w.scenario) << j.dump();
    const std::set<std::string> before = Tree(w.dir);
    const Outcome o = Gpuslice("run " + w.scenario + " --quiet", w.dir + "/cwd");
    // Such a name may be refused (exit 2) or kept inside results/ (exit 0), never followed.
    EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 2) << o.err;
    for (const std::string& p : Tree(w.dir)) {
      if (!before.count(p)) {
        EXPECT_EQ(p.rfind(w.dir + "/cwd/results", 0), 0u) << p;
      }
    }
    EXPECT_FALSE(fs::exists("/tmp/abs-fixed-seed11.h5"));
  }
}

// A run's name that cannot name an HDF5 group is refused before the run, naming it; a stdout
// that cannot be written is an error, not a lost answer.
TEST(CliErrors, RunNamesAndFullStdout) {
  Workspace w("run_names");
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
  j["policies"] = {{"k/s", j["policies"]["fixed"]}};
  std::ofstream(w.scenario) << j.dump();
  const std::set<std::string> before = Tree(w.dir);
  Outcome o = Gpuslice("run " + w.scenario + " -o " + w.dir + "/r.h5 --quiet", w.dir);
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_NE(o.err.find(w.scenario + ": /policies/k/s: "), std::string::npos) << o.err;
  EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
  o = Gpuslice("run " + w.scenario + " --no-output --quiet", w.dir);
  EXPECT_EQ(o.exit_code, 0) << o.err;

  const std::string err = w.dir + "/../run_names.err";
  const int status = std::system(("cd '" + w.dir + "' && " + GPUSLICE_BINARY + " validate " + w.scenario +
                                  " >/dev/full 2>" + err).c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_NE(ReadAll(err).find("gpuslice: error: cannot write to stdout"), std::string::npos) << ReadAll(err);
}

// 3. Atomic writes: a failed write or rename leaves no temporary and no folder it made; the
// summary JSON only after the HDF5 result is in place.
TEST(CliErrors, FailedWritesLeaveNothing) {
  const std::string dir = ::testing::TempDir() + "/cli_errors/atomic";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/afile") << "x";
  fs::create_directories(dir + "/afolder");
  const std::set<std::string> before = Tree(dir);

  EXPECT_THROW(WriteFileAtomically(dir + "/afile/x.json", "{}"), InputError);
  EXPECT_THROW(WriteFileAtomically(dir + "/afolder", "{}"), InputError);
  EXPECT_EQ(NewPaths(before, Tree(dir)), "");

  // The HDF5 writer: a path under a file; a rename that fails at Commit; an uncommitted file.
  EXPECT_THROW(ResultFile(dir + "/afile/r.h5", "s", "cmd"), InputError);
  EXPECT_EQ(NewPaths(before, Tree(dir)), "");
  {
    ResultFile file(dir + "/made/for/it/r.h5", "s", "cmd");
    EXPECT_TRUE(fs::exists(file.temp_path()));
  }  // not committed: the temporary and the folders made for it go
  EXPECT_EQ(NewPaths(before, Tree(dir)), "");
  {
    ResultFile file(dir + "/later-a-folder.h5", "s", "cmd");
    fs::create_directories(dir + "/later-a-folder.h5/inside");
    EXPECT_THROW(file.Commit({}), InputError);
  }
  fs::remove_all(dir + "/later-a-folder.h5");
  EXPECT_EQ(NewPaths(before, Tree(dir)), "");
}

// The summary JSON is written after the HDF5 result; when it cannot be, the result goes too.
TEST(CliErrors, SummaryThatCannotBeWrittenTakesTheResultWithIt) {
  Workspace w("summary_after_result");
  const std::string scenario = w.dir + "/medium.json";
  std::ofstream(scenario) << testing::FixedServersScenario(4, 1, 3000, 400, "none").dump();
  // Between the check (sub/ can be made) and the write, sub becomes a file.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(w.dir.c_str());
    ::freopen("/dev/null", "w", stdout);
    ::freopen("/dev/null", "w", stderr);
    ::execl(GPUSLICE_BINARY, GPUSLICE_BINARY, "run", scenario.c_str(), "-o", (w.dir + "/r.h5").c_str(), "--summary-json",
            (w.dir + "/sub/s.json").c_str(), "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::ofstream(w.dir + "/sub") << "in the way";
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 0) GTEST_SKIP() << "the run ended before the folder was blocked";
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_FALSE(fs::exists(w.dir + "/r.h5"));
  for (const std::string& p : Tree(w.dir)) EXPECT_EQ(p.find(".tmp"), std::string::npos) << p;
}

// 4. Interruption: exit 130 within a few seconds, no output file.
struct Interrupted {
  int exit_code = -1;
  double seconds = 0;
  std::string err;
};

Interrupted Interrupt(const std::vector<std::string>& args, const std::string& cwd, int signal, double after_s,
                      const std::vector<std::string>& env = {}) {
  const std::string err_path = ::testing::TempDir() + "/cli_errors_interrupt.err";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(cwd.c_str());
    ::freopen("/dev/null", "w", stdout);
    ::freopen(err_path.c_str(), "w", stderr);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv{const_cast<char*>(GPUSLICE_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(GPUSLICE_BINARY, argv.data());
    ::_exit(127);
  }
  // `after_s` counts from when the child catches the signal (its SigCgt mask in
  // /proc/<pid>/status), not from the fork: a sanitized binary on a loaded machine has taken
  // more than 0.5 s to reach main, and was then killed by the signal instead of handling it.
  // The test process catches neither SIGINT nor SIGTERM, so the bit is set by the child's own
  // handler. Waits at most 10 s.
  const auto forked = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - forked < std::chrono::seconds(10)) {
    std::ifstream status_file("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    unsigned long long caught = 0;
    while (std::getline(status_file, line)) {
      if (line.rfind("SigCgt:", 0) == 0) caught = std::stoull(line.substr(7), nullptr, 16);
    }
    if ((caught >> (signal - 1)) & 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(after_s));
  ::kill(pid, signal);
  const auto start = std::chrono::steady_clock::now();
  Interrupted r;
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r.seconds > 20) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = ReadAll(err_path);
  return r;
}

TEST(CliErrors, RunStopsOnSigintAndSigterm) {
  for (int signal : {SIGINT, SIGTERM}) {
    Workspace w(signal == SIGINT ? "sigint_run" : "sigterm_run");
    const std::string scenario = w.dir + "/long.json";
    std::ofstream(scenario) << testing::FixedServersScenario(4, 1, 3000, 1e5, "none").dump();
    const std::set<std::string> before = Tree(w.dir);
    const Interrupted r = Interrupt({"run", scenario, "-o", w.dir + "/out.h5", "--summary-json", w.dir + "/s.json"},
                                    w.dir, signal, 0.5);
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_LT(r.seconds, 5.0);
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
  }
}

TEST(CliErrors, CompareCapacitySweepAndRerunStopOnSigint) {
  Workspace w("sigint_others");
  const std::string scenario = w.dir + "/long.json";
  std::ofstream(scenario) << testing::FixedServersScenario(4, 1, 3000, 1e5, "none").dump();
  std::ofstream(w.dir + "/long-spec.json") << nlohmann::ordered_json{{"scenario", scenario}, {"seeds", 2}}.dump();
  const std::set<std::string> before = Tree(w.dir);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"compare", scenario, "-o", w.dir + "/c.h5", "--summary-json", w.dir + "/c.json"},
        {"capacity", scenario, "-p", "fixed", "--json"},
        {"sweep", w.dir + "/long-spec.json", "-o", w.dir + "/sweep", "-j", "1"}}) {
    SCOPED_TRACE(args[0]);
    const Interrupted r = Interrupt(args, w.dir, SIGINT, 0.5);
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_LT(r.seconds, 5.0);
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
  }
}

TEST(CliErrors, ValidateAndTraceStopOnSigint) {
  // A big trace: validate reads it all (the functions it names).
  Workspace w("sigint_validate");
  const std::string trace = w.dir + "/big.csv";
  {
    std::ofstream out(trace);
    out << "time_s,function\n";
    std::string block;
    char row[64];
    for (int i = 0; i < 8000000; ++i) {
      block.append(row, static_cast<size_t>(std::snprintf(row, sizeof row, "%d.%03d,f%d\n", i / 1000, i % 1000, i % 5000)));
      if (block.size() > (1 << 20)) {
        out << block;
        block.clear();
      }
    }
    out << block;
  }
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
  j["workload"] = {{{"type", "csv"}, {"file", trace}}};
  j["function_mapping"] = {{"rule", "round_robin"}};
  const std::string scenario = w.dir + "/trace.json";
  std::ofstream(scenario) << j.dump();
  const auto start = std::chrono::steady_clock::now();
  const Outcome whole = Gpuslice("validate " + scenario, w.dir);
  const double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Each command is signalled a quarter of the way through a whole validate (which reads
  // the trace as trace info and convert do), at most 0.3 s in: on a fast machine validate
  // reads the 8 M rows in about 0.35 s, and a fixed 0.3 s came too late.
  const double signal_after_s = std::min(0.3, full_s / 4);
  if (signal_after_s < 0.05) GTEST_SKIP() << "validate reads the trace in " << full_s << " s: too fast to interrupt";
  const std::set<std::string> before = Tree(w.dir);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"validate", scenario}, {"trace", "info", trace, "-f", "csv"},
        {"trace", "convert", trace, "-f", "csv", "-o", w.dir + "/converted.csv"}}) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    const Interrupted r = Interrupt(args, w.dir, SIGINT, signal_after_s);
    EXPECT_EQ(r.exit_code, 130) << r.err << " (a whole validate: exit " << whole.exit_code << ", " << full_s
                                << " s; signalled at " << signal_after_s << " s)";
    EXPECT_LT(r.seconds, 3.0);
    EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
  }
}

TEST(CliErrors, PlotStopsItsChildAndRemovesItsTemporary) {
  // A stand-in for the Python module: writes its temporary figure and ignores SIGINT.
  Workspace w("sigint_plot");
  fs::create_directories(w.dir + "/py/gpuslice");
  std::ofstream(w.dir + "/py/gpuslice/plot.py") << "";
  const std::string fake = w.dir + "/fake-python.sh";
  std::ofstream(fake) << "#!/bin/sh\ntrap '' INT\n: > \"$(dirname \"$5\")/.$(basename \"$5\").tmp-123.png\"\n"
                         "exec sleep 60\n";
  fs::permissions(fake, fs::perms::owner_all);
  std::ofstream(w.dir + "/r.h5") << "";
  const std::set<std::string> before = Tree(w.dir);
  const Interrupted r = Interrupt({"plot", w.dir + "/r.h5", "-o", w.dir + "/fig.png"}, w.dir, SIGINT, 0.5,
                                  {"GPUSLICE_PYTHON=" + fake, "GPUSLICE_PYTHONPATH=" + w.dir + "/py"});
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_LT(r.seconds, 6.0);
  EXPECT_EQ(NewPaths(before, Tree(w.dir)), "");
}

// 5. Names that are not UTF-8 (a trace's function names) never crash the JSON output.
TEST(CliErrors, NonUtf8FunctionNamesAreNotInternalErrors) {
  Workspace w("non_utf8");
  const std::string trace = w.dir + "/latin1.csv";
  std::ofstream(trace) << "time_s,function\n0.5,caf\xe9\n1.0,\xff\xfe\n1.5,ok\n";
  nlohmann::ordered_json j = testing::FixedServersScenario(1, 10, 5, 10, "none");
  j["workload"] = {{{"type", "csv"}, {"file", trace}}};
  j["function_mapping"] = {{"rule", "round_robin"}};
  const std::string scenario = w.dir + "/trace.json";
  std::ofstream(scenario) << j.dump();
  for (const std::string& args :
       {"run " + scenario + " --per-request -o " + w.dir + "/r.h5 --summary-json " + w.dir + "/s.json",
        "run " + scenario + " --no-output --format json", "validate " + scenario}) {
    SCOPED_TRACE(args);
    const Outcome o = Gpuslice(args, w.dir);
    EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 2) << o.err;
    EXPECT_EQ(o.err.find("internal error"), std::string::npos) << o.err;
  }
}

}  // namespace
}  // namespace gpuslice
