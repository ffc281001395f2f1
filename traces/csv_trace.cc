#include "traces/csv_trace.h"

#include <algorithm>
#include <charconv>

#include "sim/util/error.h"
#include "traces/trace_time.h"

namespace gpuslice {

bool ReadTokens(const CsvReader& csv, int column, int32_t* out) {
  *out = -1;
  if (column < 0 || static_cast<size_t>(column) >= csv.fields().size()) return true;
  std::string_view f = csv.fields()[static_cast<size_t>(column)];
  if (f.empty()) return true;
  int32_t v = 0;
  auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
  if (ec != std::errc() || end != f.data() + f.size() || v < 0) return false;
  *out = v;
  return true;
}

CsvTrace::CsvTrace(const std::string& path, bool skip_bad_rows) : RawTrace(skip_bad_rows), csv_(path) {
  if (!csv_.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv_.fields().begin(), csv_.fields().end());
  time_col_ = CsvReader::FindColumn(header, "time_s");
  function_col_ = CsvReader::FindColumn(header, "function");
  input_col_ = CsvReader::FindColumn(header, "input_tokens");
  output_col_ = CsvReader::FindColumn(header, "output_tokens");
  if (time_col_ < 0 || function_col_ < 0) {
    throw LineError(path, csv_.line_number(), "header must name the columns 'time_s' and 'function'");
  }
  // Every row has the header's fields (a row cut short is a bad row, not a row without tokens).
  min_fields_ = header.size();
}

bool CsvTrace::Next(RawRecord* out) {
  while (csv_.Next()) {
    const auto& f = csv_.fields();
    if (f.size() < min_fields_) {
      BadRow(csv_.path(), csv_.line_number(),
             "expected at least " + std::to_string(min_fields_) + " fields, got " + std::to_string(f.size()));
      continue;
    }
    double t_s = 0;
    if (!CsvReader::TryDouble(f[static_cast<size_t>(time_col_)], &t_s)) {
      BadRow(csv_.path(), csv_.line_number(),
             "column 'time_s': '" + std::string(f[static_cast<size_t>(time_col_)]) + "' is not a number");
      continue;
    }
    if (t_s < 0) {
      BadRow(csv_.path(), csv_.line_number(), "time_s must be >= 0");
      continue;
    }
    if (!SecondsFitSimTime(t_s)) {
      BadRow(csv_.path(), csv_.line_number(),
             "time_s " + std::string(f[static_cast<size_t>(time_col_)]) + " is beyond the limit of " +
                 std::to_string(kMaxSimSeconds) + " s (" + kSimTimeLimitNote + ")");
      continue;
    }
    std::string_view name = f[static_cast<size_t>(function_col_)];
    if (name.empty()) {
      BadRow(csv_.path(), csv_.line_number(), "empty function");
      continue;
    }
    if (!IsValidUtf8(name)) {
      BadRow(csv_.path(), csv_.line_number(), "function name is not valid UTF-8");
      continue;
    }
    if (!ReadTokens(csv_, input_col_, &out->input_tokens) || !ReadTokens(csv_, output_col_, &out->output_tokens)) {
      BadRow(csv_.path(), csv_.line_number(), "token counts must be integers in [0, 2147483647]");
      continue;
    }
    out->time = SecondsToSim(t_s);
    out->function = name;
    return true;
  }
  return false;
}

}  // namespace gpuslice
