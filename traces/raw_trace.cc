#include "traces/raw_trace.h"

#include <cmath>

#include "sim/util/error.h"

namespace gpuslice {

void RawTrace::BadRow(const std::string& file, long line, const std::string& what) {
  if (!skip_bad_rows_) throw LineError(file, line, what);
  ++skipped_;
}

void RawTrace::CountFunctions(std::unordered_map<std::string, long long>* counts, std::vector<std::string>* order) {
  RawRecord r;
  // Consecutive records of one function are common; avoid a lookup for each.
  std::string last;
  long long* last_count = nullptr;
  while (Next(&r)) {
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
      window_start_(SecondsToSim(transform.window_start_s)),
      window_end_(transform.window_end_s > 0 ? SecondsToSim(transform.window_end_s) : kForever) {}

bool TraceStream::Next(Arrival* out) {
  RawRecord r;
  while (raw_->Next(&r)) {
    if (r.time < last_raw_) {
      if (skip_bad_rows_) {
        ++out_of_order_;
        continue;
      }
      throw InputError(raw_->Where() + ": time goes back (" + std::to_string(SimToSeconds(r.time)) + " s after " +
                       std::to_string(SimToSeconds(last_raw_)) + " s); sort the trace by time first");
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
    const double rebased = static_cast<double>(r.time - window_start_);
    out->time = t_.offset + std::llround(rebased / t_.time_scale);
    out->function = it->second;
    out->input_tokens = r.input_tokens;
    out->output_tokens = r.output_tokens;
    return true;
  }
  return false;
}

}  // namespace gpuslice
