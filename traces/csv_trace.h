// CsvTrace: a user's own trace as plain CSV ("csv" format), streamed.
//
// A header line names the columns; `time_s` (seconds from the trace's start) and `function`
// are required; `input_tokens` and `output_tokens` are kept when present; others are
// ignored. This is also what `gpuslice trace convert` writes. A row with fewer fields than
// the header (a file cut mid-row), a time_s past kMaxSimSeconds (about 292 years) and a
// function name that is not valid UTF-8 are bad rows.
#ifndef GPUSLICE_TRACES_CSV_TRACE_H_
#define GPUSLICE_TRACES_CSV_TRACE_H_

#include <string>

#include "sim/util/csv.h"
#include "traces/raw_trace.h"

namespace gpuslice {

class CsvTrace final : public RawTrace {
 public:
  // Throws InputError if the file or its header is bad.
  CsvTrace(const std::string& path, bool skip_bad_rows);
  bool Next(RawRecord* out) override;
  std::string Where() const override { return csv_.path() + ":" + std::to_string(csv_.line_number()); }

 private:
  CsvReader csv_;
  int time_col_ = -1;
  int function_col_ = -1;
  int input_col_ = -1;
  int output_col_ = -1;
  size_t min_fields_ = 0;
};

// Reads an optional integer token column; -1 if absent or empty, false if malformed.
bool ReadTokens(const CsvReader& csv, int column, int32_t* out);

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_CSV_TRACE_H_
