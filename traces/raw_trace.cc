#include "traces/raw_trace.h"

#include <cmath>

#include "sim/util/csv.h"
#include "sim/util/error.h"
#include "traces/trace_time.h"

namespace gpuslice {
namespace {

std::string TimeGoesBack(const std::string& where, SimTime time, SimTime previous) {
  return where + ": time goes back (" + FormatSimSeconds(time) + " s after " + FormatSimSeconds(previous) +
         " s); sort the trace by time first";
}

}  // namespace

void RawTrace::BadRow(const std::string& file, long line, const std::string& what) {
  if (!skip_bad_rows_) throw LineError(file, line, what);
  ++skipped_;
}

void RawTrace::CountFunctions(std::unordered_map<std::string, long long>* counts, std::vector<std::string>* order) {
  RawRecord r;
  // Consecutive records of one function are common; avoid a lookup for each.
  std::string last;
  long long* last_count = nullptr;
  SimTime previous = 0;
  while (Next(&r)) {
    // The check TraceStream makes as it replays, here too so that loading (and `gpuslice
    // validate`) reports it; a skipped row is not counted, as the replay skips it.
    if (r.time < previous) {
      if (!skip_bad_rows_) throw InputError(TimeGoesBack(Where(), r.time, previous));
      ++skipped_;
      continue;
    }
    previous = r.time;
    last_time_ = r.time;
    if (last_count != nullptr && r.function == last) {
      ++*last_count;
      continue;
    }
    last.assign(r.function);
    auto [it, inserted] = counts->try_emplace(last, 0);
    if (inserted) order->push_back(last);
    last_count = &it->second;
    ++*last_count;
  }
}

TraceStream::TraceStream(std::unique_ptr<RawTrace> raw, const NameIndex* emit, bool skip_bad_rows,
                         TraceTransform transform, RngStream rng)
    : raw_(std::move(raw)),
      emit_(emit),
      skip_bad_rows_(skip_bad_rows),
      t_(transform),
      rng_(rng),
      // A window beyond simulated time's range holds no record, or all of them.
      window_start_(SecondsFitSimTime(transform.window_start_s) ? SecondsToSim(transform.window_start_s) : kForever),
      window_end_(transform.window_end_s > 0 && SecondsFitSimTime(transform.window_end_s)
                      ? SecondsToSim(transform.window_end_s)
                      : kForever) {}

bool TraceStream::Next(Arrival* out) {
  RawRecord r;
  while (raw_->Next(&r)) {
    if (r.time < last_raw_) {
      if (skip_bad_rows_) {
        ++out_of_order_;
        continue;
      }
      throw InputError(TimeGoesBack(raw_->Where(), r.time, last_raw_));
    }
    last_raw_ = r.time;
    if (r.time >= window_end_) return false;
    auto it = emit_->find(r.function);
    if (it == emit_->end()) {
      ++filtered_;
      continue;
    }
    if (r.time < window_start_) continue;
    if (t_.keep < 1.0 && rng_.Uniform() >= t_.keep) continue;
    // Slowed down (time_scale < 1) or started late, a time may leave SimTime's range.
    const double scaled = static_cast<double>(r.time - window_start_) / t_.time_scale;
    const double time = static_cast<double>(t_.offset) + scaled;
    if (!(time < 9.2e18)) {
      throw InputError(raw_->Where() + ": trace time " + FormatSimSeconds(r.time) + " s at time_scale " +
                       ExactNumber(t_.time_scale) + ", starting at " + FormatSimSeconds(t_.offset) + " s, would be " +
                       ExactNumber(time * 1e-9) + " s in the run, beyond " + std::to_string(kMaxSimSeconds) + " s (" +
                       kSimTimeLimitNote + ")");
    }
    out->time = t_.offset + std::llround(scaled);
    out->function = it->second;
    out->input_tokens = r.input_tokens;
    out->output_tokens = r.output_tokens;
    return true;
  }
  return false;
}

}  // namespace gpuslice
