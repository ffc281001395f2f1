#include "tools/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

#include <CLI/CLI.hpp>

namespace gpuslice {
namespace {

constexpr double kQuietS = 1.0;         // no line during the first second
constexpr double kRedrawEveryS = 0.25;  // at most 4 redraws a second
constexpr const char* kClearToEnd = "\x1b[K";

std::string FormatRate(double per_s) {
  char buf[64];
  if (per_s >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f M requests/s", per_s / 1e6);
  } else if (per_s >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f k requests/s", per_s / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f requests/s", per_s);
  }
  return buf;
}

// ", ETA m:ss" for the wall time left when `fraction` of the work took `elapsed_s`.
std::string Eta(double fraction, double elapsed_s) {
  if (fraction <= 0) return "";
  return ", ETA " + FormatClock(elapsed_s * (1.0 - fraction) / fraction);
}

std::string Percent(double fraction) {
  return std::to_string(static_cast<int>(std::floor(100.0 * fraction))) + "%";
}

}  // namespace

void AddProgressOptions(CLI::App* app, ProgressChoice* choice) {
  CLI::Option* progress =
      app->add_flag("--progress", choice->force, "Show the live progress line even when stderr is not a terminal");
  CLI::Option* quiet = app->add_flag("--quiet", choice->quiet, "No progress line and no per-run messages on stderr");
  progress->excludes(quiet);
}

bool ProgressEnabled(const ProgressChoice& choice) {
  if (choice.quiet) return false;
  if (choice.force) return true;
  return isatty(fileno(stderr)) != 0;
}

double SteadyWallClockS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string FormatClock(double seconds) {
  const long long total = static_cast<long long>(std::floor(std::max(0.0, seconds)));
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  char buf[64];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", m, s);
  }
  return buf;
}

ProgressLine::ProgressLine(std::ostream& err, bool enabled, int total_runs, std::function<double()> wall_clock_s)
    : err_(err), enabled_(enabled), wall_clock_s_(std::move(wall_clock_s)), start_s_(wall_clock_s_()),
      runs_(static_cast<size_t>(std::max(1, total_runs))) {}

ProgressLine::~ProgressLine() { Finish(); }

std::function<void(const RunProgress&)> ProgressLine::ForRun(int index) {
  return [this, index](const RunProgress& progress) { Report(index, progress); };
}

void ProgressLine::Report(int index, const RunProgress& progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  RunState& r = runs_.at(static_cast<size_t>(index));
  r.started = true;
  r.simulated_s = progress.simulated_s;
  r.end_s = progress.end_s;
  r.arrived = progress.arrived;
  MaybeDrawLocked();
}

void ProgressLine::RunDone(int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  RunState& r = runs_.at(static_cast<size_t>(index));
  r.started = true;
  r.done = true;
  MaybeDrawLocked();
}

void ProgressLine::Print(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  ClearLocked();
  err_ << text << std::flush;
}

void ProgressLine::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  ClearLocked();
  finished_ = true;
}

std::string ProgressLine::Render() {
  std::lock_guard<std::mutex> lock(mutex_);
  return RenderLocked(wall_clock_s_());
}

std::string ProgressLine::RenderLocked(double now_s) const {
  const double elapsed_s = std::max(0.0, now_s - start_s_);
  uint64_t arrived = 0;
  for (const RunState& r : runs_) arrived += r.arrived;
  const std::string rate = FormatRate(elapsed_s > 0 ? static_cast<double>(arrived) / elapsed_s : 0.0);

  if (runs_.size() == 1) {
    const RunState& r = runs_.front();
    std::string line = "simulated " + FormatClock(r.simulated_s);
    if (r.end_s <= 0) return line + ", " + rate;
    const double fraction = r.done ? 1.0 : std::min(1.0, r.simulated_s / r.end_s);
    return line + " / " + FormatClock(r.end_s) + " (" + Percent(fraction) + "), " + rate + Eta(fraction, elapsed_s);
  }

  int done = 0, running = 0;
  bool end_known = true;
  double runs_done = 0;  // finished runs plus the finished share of running ones
  for (const RunState& r : runs_) {
    if (r.done) {
      ++done;
      runs_done += 1.0;
    } else if (r.started) {
      ++running;
      if (r.end_s > 0) {
        runs_done += std::min(1.0, r.simulated_s / r.end_s);
      } else {
        end_known = false;
      }
    }
  }
  std::string line = "runs " + std::to_string(done) + "/" + std::to_string(runs_.size()) + " done, " +
                     std::to_string(running) + " running";
  if (!end_known) return line + ", " + rate;
  const double fraction = runs_done / static_cast<double>(runs_.size());
  return line + " (" + Percent(fraction) + "), " + rate + Eta(fraction, elapsed_s);
}

void ProgressLine::MaybeDrawLocked() {
  if (!enabled_ || finished_) return;
  const double now_s = wall_clock_s_();
  if (now_s - start_s_ < kQuietS || now_s - last_draw_s_ < kRedrawEveryS) return;
  err_ << '\r' << RenderLocked(now_s) << kClearToEnd << std::flush;
  drawn_ = true;
  last_draw_s_ = now_s;
}

void ProgressLine::ClearLocked() {
  if (!drawn_) return;
  err_ << '\r' << kClearToEnd << std::flush;
  drawn_ = false;
}

}  // namespace gpuslice
