// CsvTraceStream: a user's own trace as plain CSV, streamed.
//
// A header line names the columns; `time_s` (seconds from the trace's start) and `function`
// are required, others are ignored. Rows must be in non-decreasing time: a row that goes
// back in time stops the run with "file:line: ...". Functions not in the scenario are an
// error, or are skipped and counted when `skip_unknown` is set.
#ifndef GPUSLICE_TRACES_CSV_TRACE_H_
#define GPUSLICE_TRACES_CSV_TRACE_H_

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sim/util/csv.h"
#include "traces/arrival_stream.h"

namespace gpuslice {

class CsvTraceStream final : public ArrivalStream {
 public:
  // `functions` maps names to indices. Throws InputError if the file or its header is bad.
  CsvTraceStream(const std::string& path, const std::unordered_map<std::string, int32_t>& functions,
                 bool skip_unknown, SimTime offset);
  bool Next(Arrival* out) override;
  long long skipped_rows() const { return skipped_; }

 private:
  CsvReader csv_;
  std::unordered_map<std::string, int32_t> functions_;
  bool skip_unknown_;
  SimTime offset_;
  int time_col_ = -1;
  int function_col_ = -1;
  SimTime last_ = 0;
  long long skipped_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_CSV_TRACE_H_
