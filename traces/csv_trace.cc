#include "traces/csv_trace.h"

#include "sim/util/error.h"

namespace gpuslice {

CsvTraceStream::CsvTraceStream(const std::string& path,
                               const std::unordered_map<std::string, int32_t>& functions,
                               bool skip_unknown, SimTime offset)
    : csv_(path), functions_(functions), skip_unknown_(skip_unknown), offset_(offset), last_(offset) {
  if (!csv_.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv_.fields().begin(), csv_.fields().end());
  time_col_ = CsvReader::FindColumn(header, "time_s");
  function_col_ = CsvReader::FindColumn(header, "function");
  if (time_col_ < 0 || function_col_ < 0) {
    throw LineError(path, csv_.line_number(), "header must name the columns 'time_s' and 'function'");
  }
}

bool CsvTraceStream::Next(Arrival* out) {
  while (csv_.Next()) {
    const double t_s = csv_.Double(static_cast<size_t>(time_col_), "time_s");
    csv_.RequireFields(static_cast<size_t>(function_col_) + 1);
    std::string_view name = csv_.fields()[static_cast<size_t>(function_col_)];
    if (t_s < 0) throw LineError(csv_.path(), csv_.line_number(), "time_s must be >= 0");
    const SimTime t = offset_ + SecondsToSim(t_s);
    if (t < last_) {
      throw LineError(csv_.path(), csv_.line_number(),
                      "time_s goes back in time (" + std::to_string(t_s) +
                          " s after " + std::to_string(SimToSeconds(last_ - offset_)) +
                          " s); sort the trace by time first");
    }
    auto it = functions_.find(std::string(name));
    if (it == functions_.end()) {
      if (skip_unknown_) {
        ++skipped_;
        continue;
      }
      throw LineError(csv_.path(), csv_.line_number(),
                      "function '" + std::string(name) + "' is not in the scenario");
    }
    last_ = t;
    *out = Arrival{t, it->second};
    return true;
  }
  return false;
}

}  // namespace gpuslice
