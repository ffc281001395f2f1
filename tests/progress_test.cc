#include "tools/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "sim/summary_json.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

constexpr const char* kClear = "\x1b[K";

// A hand-set wall clock.
struct FakeClock {
  double now_s = 0;
  std::function<double()> Fn() {
    return [this] { return now_s; };
  }
};

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

RunProgress At(double simulated_s, double end_s, uint64_t arrived) {
  RunProgress p;
  p.simulated_s = simulated_s;
  p.end_s = end_s;
  p.arrived = arrived;
  return p;
}

TEST(ProgressClock, Formats) {
  EXPECT_EQ(FormatClock(0), "0:00");
  EXPECT_EQ(FormatClock(59.9), "0:59");       // rounded down
  EXPECT_EQ(FormatClock(242), "4:02");        // 4 * 60 + 2
  EXPECT_EQ(FormatClock(3909), "1:05:09");    // 3600 + 5 * 60 + 9
  EXPECT_EQ(FormatClock(90061), "25:01:01");  // 25 * 3600 + 60 + 1: hours do not wrap
}

TEST(ProgressLine, NothingDuringTheFirstSecond) {
  FakeClock clock;
  clock.now_s = 500;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  clock.now_s = 500.5;
  line.Report(0, At(10, 100, 5));
  clock.now_s = 500.999;
  line.Report(0, At(20, 100, 6));
  EXPECT_EQ(err.str(), "");
  clock.now_s = 501.0;
  line.Report(0, At(30, 100, 7));
  EXPECT_EQ(Count(err.str(), "\r"), 1u);
}

TEST(ProgressLine, OneRun) {
  FakeClock clock;
  clock.now_s = 100;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  clock.now_s = 130;  // 30 s of wall time
  line.Report(0, At(5025, 7200, 36'000'000));
  // simulated 5025 s = 1:23:45 of 7200 s = 2:00:00; 5025 / 7200 = 0.6979 -> 69%.
  // 36e6 requests in 30 s = 1.2e6/s. ETA = 30 * (1 - f) / f = 30 * 2175 / 5025 = 12.98 s -> 0:12.
  EXPECT_EQ(err.str(), std::string("\rsimulated 1:23:45 / 2:00:00 (69%), 1.2 M requests/s, ETA 0:12") + kClear);
}

TEST(ProgressLine, OneRunWithUnknownEndHasNoPercentOrEta) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  clock.now_s = 2;
  line.Report(0, At(59.5, 0, 1900));
  // 1900 requests in 2 s = 950/s.
  EXPECT_EQ(line.Render(), "simulated 0:59, 950 requests/s");
}

TEST(ProgressLine, SeveralRuns) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 12, clock.Fn());
  clock.now_s = 60;
  line.Report(0, At(100, 100, 1'000'000));
  line.RunDone(0);
  line.Report(1, At(100, 100, 1'000'000));
  line.RunDone(1);
  line.Report(2, At(50, 100, 1'000'000));
  line.Report(3, At(30, 100, 1'000'000));
  line.Report(4, At(120, 100, 1'000'000));  // the drain ran past the expected end: counts 1
  // Done 2 + 0.5 + 0.3 + 1 = 3.8 of 12 runs = 0.3167 -> 31%.
  // 5e6 requests in 60 s = 83,333/s -> 83.3 k. ETA = 60 * 8.2 / 3.8 = 129.47 s -> 2:09.
  EXPECT_EQ(line.Render(), "runs 2/12 done, 3 running (31%), 83.3 k requests/s, ETA 2:09");
  line.Report(5, At(10, 0, 0));  // a run of unknown length: no percentage or ETA
  EXPECT_EQ(line.Render(), "runs 2/12 done, 4 running, 83.3 k requests/s");
}

TEST(ProgressLine, RedrawsAtMostFourTimesASecond) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  for (double t : {1.0, 1.1, 1.24}) {
    clock.now_s = t;
    line.Report(0, At(t, 10, 1));
  }
  EXPECT_EQ(Count(err.str(), "\r"), 1u);  // 1.1 and 1.24 are within 0.25 s of 1.0
  clock.now_s = 1.25;
  line.Report(0, At(2, 10, 1));
  EXPECT_EQ(Count(err.str(), "\r"), 2u);
  clock.now_s = 1.4;
  line.RunDone(0);
  EXPECT_EQ(Count(err.str(), "\r"), 2u);
  clock.now_s = 1.5;
  line.RunDone(0);
  EXPECT_EQ(Count(err.str(), "\r"), 3u);
  EXPECT_EQ(Count(err.str(), kClear), 3u);  // each redraw clears the rest of the old line
}

TEST(ProgressLine, DisabledWritesNothing) {
  FakeClock clock;
  std::ostringstream err;
  {
    ProgressLine line(err, false, 3, clock.Fn());
    for (int i = 0; i < 3; ++i) {
      clock.now_s += 10;
      line.ForRun(i)(At(5, 10, 100));
      line.RunDone(i);
    }
    line.Finish();
  }
  EXPECT_EQ(err.str(), "");
}

TEST(ProgressLine, FinishClearsTheLineAndStopsDrawing) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  clock.now_s = 5;
  line.Report(0, At(1, 10, 1));
  line.Finish();
  const std::string after_finish = err.str();
  EXPECT_EQ(after_finish.substr(after_finish.size() - 4), std::string("\r") + kClear);
  clock.now_s = 10;
  line.Report(0, At(2, 10, 1));
  line.Finish();
  EXPECT_EQ(err.str(), after_finish);
}

TEST(ProgressLine, FinishWithoutALineWritesNothing) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 1, clock.Fn());
  line.Report(0, At(1, 10, 1));  // within the first second: not drawn
  line.Finish();
  EXPECT_EQ(err.str(), "");
}

TEST(ProgressLine, PrintClearsTheLineFirst) {
  FakeClock clock;
  std::ostringstream err;
  ProgressLine line(err, true, 2, clock.Fn());
  line.Print("running a\n");
  EXPECT_EQ(err.str(), "running a\n");  // no line drawn yet: nothing to clear
  clock.now_s = 2;
  line.Report(0, At(1, 10, 1));
  line.Print("running b\n");
  const std::string out = err.str();
  EXPECT_EQ(out.substr(out.size() - 14), std::string("\r") + kClear + "running b\n");
}

TEST(ProgressLine, RunsOnSeveralThreads) {
  constexpr int kThreads = 8, kReports = 20000;
  std::atomic<int64_t> ticks{0};
  std::ostringstream err;
  ProgressLine line(err, true, kThreads, [&ticks] { return 1e-4 * static_cast<double>(ticks.fetch_add(1)); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&line, t] {
      auto report = line.ForRun(t);
      for (int i = 1; i <= kReports; ++i) report(At(i, kReports, static_cast<uint64_t>(i)));
      line.RunDone(t);
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(line.Render().rfind("runs 8/8 done, 0 running (100%), ", 0), 0u) << line.Render();
  EXPECT_NE(line.Render().find("ETA 0:00"), std::string::npos);
  line.Finish();
  EXPECT_GT(Count(err.str(), "\r"), 1u);  // the clock ran ~16 s: it drew
}

TEST(ProgressChoice, QuietWinsThenForceThenTerminal) {
  EXPECT_FALSE(ProgressEnabled({.force = true, .quiet = true}));
  EXPECT_FALSE(ProgressEnabled({.force = false, .quiet = true}));
  EXPECT_TRUE(ProgressEnabled({.force = true, .quiet = false}));
  EXPECT_EQ(ProgressEnabled({}), isatty(fileno(stderr)) != 0);
}

TEST(ProgressChoice, Options) {
  auto parse = [](std::vector<std::string> args, ProgressChoice* choice) {
    CLI::App app;
    AddProgressOptions(&app, choice);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  };
  ProgressChoice forced, quiet, neither;
  parse({"--progress"}, &forced);
  EXPECT_TRUE(forced.force);
  EXPECT_FALSE(forced.quiet);
  parse({"--quiet"}, &quiet);
  EXPECT_TRUE(quiet.quiet);
  EXPECT_FALSE(quiet.force);
  parse({}, &neither);
  EXPECT_FALSE(neither.force || neither.quiet);
  ProgressChoice both;
  EXPECT_THROW(parse({"--progress", "--quiet"}, &both), CLI::ParseError);
}

// One model on 8 warm servers of 0.2 ms each (utilization 20,000 * 0.0002 / 8 = 0.5) under
// 20,000 requests/s for 100 s: 2 M arrivals, long enough in wall time for calls during the run.
nlohmann::ordered_json BusyScenario() {
  nlohmann::ordered_json j = testing::FixedServersScenario(8, 0.2, 20000, 100, "none");
  return j;
}

TEST(ProgressHook, ChangesNothingAndReportsInOrder) {
  const Scenario scenario = testing::ParseInline(BusyScenario());
  const PolicyRunSpec& run = scenario.policies.front();
  const RunResult plain = RunSimulation(scenario, run);

  std::vector<RunProgress> calls;
  RunOptions options;
  options.progress = [&calls](const RunProgress& p) { calls.push_back(p); };
  const RunResult watched = RunSimulation(scenario, run, options);

  EXPECT_EQ(SummaryJson("s", {plain}).dump(2), SummaryJson("s", {watched}).dump(2));
  EXPECT_EQ(plain.events, watched.events);
  ASSERT_FALSE(calls.empty());
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GE(calls[i].simulated_s, calls[i - 1].simulated_s);
    EXPECT_GE(calls[i].arrived, calls[i - 1].arrived);
  }
  // The last call comes at the end of the events.
  EXPECT_EQ(calls.back().simulated_s, watched.simulated_s);
  EXPECT_EQ(calls.back().arrived, watched.overall.arrived);
  // No duration_s: the end is the poisson source's end_s.
  EXPECT_EQ(calls.back().end_s, 100.0);
  // Calls at most every 0.25 s of wall time, plus the last one.
  EXPECT_LE(static_cast<double>(calls.size()), 1.0 + watched.wall_s / 0.25);
  // The clock is read every 4096 arrivals, every few ms here: a run of more than 0.5 s calls
  // at least once during the run (about 0.25 s in), and once at its end.
  if (watched.wall_s > 0.5) {
    EXPECT_GE(calls.size(), 2u) << watched.wall_s << " s";
  } else {
    std::cerr << "ProgressHook: the run took only " << watched.wall_s << " s; calls during it not checked\n";
  }
}

TEST(ProgressHook, EndIsTheDurationWhenSet) {
  nlohmann::ordered_json j = testing::FixedServersScenario(2, 1, 10, 50, "none");
  j["duration_s"] = 20;
  const Scenario scenario = testing::ParseInline(j);
  RunOptions options;
  RunProgress last;
  options.progress = [&last](const RunProgress& p) { last = p; };
  RunSimulation(scenario, scenario.policies.front(), options);
  EXPECT_EQ(last.end_s, 20.0);
}

}  // namespace
}  // namespace gpuslice
