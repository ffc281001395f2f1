// RawTrace: a trace file read as it was published, one record at a time, before any
// transformation: trace time (from the trace's own origin), the function's name, tokens.
//
// Each format is one RawTrace class (traces/<format>.h). TraceStream turns a RawTrace into an
// ArrivalStream: it resolves names to the scenario's function indices and applies the
// source's transformations (function filter, time window, thinning, time scaling, offset).
//
// Bad rows: a reader calls BadRow(), which raises "file:line: what" unless the source allows
// skipping, in which case the row is counted in skipped_rows() and reported by the caller.
#ifndef GPUSLICE_TRACES_RAW_TRACE_H_
#define GPUSLICE_TRACES_RAW_TRACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/engine/rng.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

struct RawRecord {
  SimTime time;                // since the trace's origin
  std::string_view function;   // valid until the next call to Next()
  int32_t input_tokens = -1;
  int32_t output_tokens = -1;
};

class RawTrace {
 public:
  explicit RawTrace(bool skip_bad_rows) : skip_bad_rows_(skip_bad_rows) {}
  virtual ~RawTrace() = default;
  RawTrace(const RawTrace&) = delete;
  RawTrace& operator=(const RawTrace&) = delete;

  // The next record, in non-decreasing time unless the trace itself is out of order (the
  // caller checks). False at the end.
  virtual bool Next(RawRecord* out) = 0;

  // Adds each function's number of records to `counts` (name -> count), in order of first
  // appearance in `order`. The default reads the whole trace; formats that know their
  // counts up front override it. A record earlier than the one before it is an InputError
  // "file:line: time goes back (T s after P s)" as in TraceStream, found here at loading;
  // with skip_bad_rows it is skipped and not counted.
  virtual void CountFunctions(std::unordered_map<std::string, long long>* counts,
                              std::vector<std::string>* order);

  virtual long long skipped_rows() const { return skipped_; }
  // After CountFunctions: the latest record time it saw (for the bounds of a replay).
  virtual SimTime last_time() const { return last_time_; }
  // The file and line of the record last returned, for errors found by the caller.
  virtual std::string Where() const = 0;

 protected:
  // Raises InputError(file:line: what) unless bad rows are skipped; then counts the row.
  void BadRow(const std::string& file, long line, const std::string& what);

 private:
  bool skip_bad_rows_;

 protected:
  SimTime last_time_ = 0;

 private:
  long long skipped_ = 0;
};

// Hash map from function names with lookup by string_view.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NameIndex = std::unordered_map<std::string, int32_t, NameHash, std::equal_to<>>;

// The transformations of one source, applied in this order: function filter, time window
// (re-based to its start), thinning (keep each arrival with probability `keep`), time
// scaling (t / time_scale), offset.
struct TraceTransform {
  double window_start_s = 0;
  double window_end_s = 0;  // 0: no end
  double keep = 1.0;        // thinning probability, in (0, 1]
  double time_scale = 1.0;  // > 1 replays faster
  SimTime offset = 0;       // added last
};

class TraceStream final : public ArrivalStream {
 public:
  // `emit` maps the names this source may emit to function indices; other names are
  // skipped and counted (filtered). A record earlier than the one before it is an error, or
  // skipped and counted with `skip_bad_rows`.
  TraceStream(std::unique_ptr<RawTrace> raw, const NameIndex* emit, bool skip_bad_rows, TraceTransform transform,
              RngStream rng);
  bool Next(Arrival* out) override;

  long long skipped_rows() const { return raw_->skipped_rows() + out_of_order_; }
  long long filtered_rows() const { return filtered_; }

 private:
  std::unique_ptr<RawTrace> raw_;
  const NameIndex* emit_;
  bool skip_bad_rows_;
  TraceTransform t_;
  RngStream rng_;
  SimTime window_start_;
  SimTime window_end_;
  SimTime last_raw_ = 0;
  long long filtered_ = 0;
  long long out_of_order_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_RAW_TRACE_H_
