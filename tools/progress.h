// A live progress line on stderr for runs that take more than a second, and the command-line
// options that turn it on or off.
//
// ProgressLine draws one line, rewritten in place with '\r' and cleared to its end, for one
// run ("simulated 1:23:45 / 2:00:00 (70%), 1.2 M requests/s, ETA 0:42") or several runs
// that go on at once ("runs 2/12 done, 3 running (64%), 1.1 M requests/s, ETA 3:10").
// Guarantees: nothing is written when it is disabled, nothing during its first second of
// wall time, at most one redraw per 0.25 s of wall time, and Finish() leaves the terminal's
// line empty. It only reads what runs report, so it never changes a simulated result.
// Thread-safe: runs on several threads may report to one ProgressLine at once.
#ifndef GPUSLICE_TOOLS_PROGRESS_H_
#define GPUSLICE_TOOLS_PROGRESS_H_

#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "sim/simulation.h"

namespace CLI {
class App;
}  // namespace CLI

namespace gpuslice {

struct ProgressChoice {
  bool force = false;  // --progress: draw the line even when stderr is not a terminal
  bool quiet = false;  // --quiet: no progress line and no per-run messages
};

// Adds --progress and --quiet (which exclude each other) to `app`, writing to `choice`.
// REQUIRES: `choice` outlives the parsing of `app`.
void AddProgressOptions(CLI::App* app, ProgressChoice* choice);

// Whether to draw the line: never when quiet; always when forced; else when stderr is a
// terminal.
bool ProgressEnabled(const ProgressChoice& choice);

// Seconds of a monotonic wall clock from an arbitrary origin (std::chrono::steady_clock).
double SteadyWallClockS();

// "1:05:09" for 3909 seconds, "4:02" for 242 (whole seconds, rounded down; hours only
// when there is at least one). REQUIRES: seconds >= 0.
std::string FormatClock(double seconds);

class ProgressLine {
 public:
  // REQUIRES: total_runs >= 1; `err` outlives this object; `wall_clock_s` never decreases
  // and is safe to call from any thread. Wall time is counted from this constructor.
  ProgressLine(std::ostream& err, bool enabled, int total_runs,
               std::function<double()> wall_clock_s = SteadyWallClockS);
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine();  // Finish()

  // A callback for RunOptions::progress of run `index`, which reports to Report().
  // REQUIRES: 0 <= index < total_runs; this object outlives the callback's calls.
  std::function<void(const RunProgress&)> ForRun(int index);

  // Records where run `index` stands (it counts as running from its first report until
  // RunDone) and redraws the line if it is due. REQUIRES: 0 <= index < total_runs.
  void Report(int index, const RunProgress& progress);

  // Marks run `index` finished (its requests keep counting in the rate) and redraws the line
  // if it is due. REQUIRES: 0 <= index < total_runs.
  void RunDone(int index);

  // Writes `text` (the caller ends it with '\n') to `err` whether or not the line is
  // enabled, first clearing a drawn line, which the next redraw brings back.
  void Print(const std::string& text);

  // Clears the line if one was drawn; later reports draw nothing. Idempotent.
  void Finish();

  // The line as it would be drawn now, without '\r' or the clearing escape; for tests.
  std::string Render();

 private:
  struct RunState {
    bool started = false;
    bool done = false;
    double simulated_s = 0;
    double end_s = 0;
    uint64_t arrived = 0;
  };

  // REQUIRES: mutex_ held.
  std::string RenderLocked(double now_s) const;
  void MaybeDrawLocked();
  void ClearLocked();

  std::ostream& err_;
  const bool enabled_;
  const std::function<double()> wall_clock_s_;
  const double start_s_;
  std::mutex mutex_;
  std::vector<RunState> runs_;
  bool finished_ = false;
  bool drawn_ = false;           // a line is on the terminal now
  double last_draw_s_ = -1e300;  // wall clock of the last redraw
};

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_PROGRESS_H_
