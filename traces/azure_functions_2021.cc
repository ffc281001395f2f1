#include "traces/azure_functions_2021.h"

#include <algorithm>

#include "sim/util/csv.h"
#include "sim/util/error.h"
#include "traces/trace_time.h"

namespace gpuslice {

AzureFunctions2021Trace::AzureFunctions2021Trace(const std::string& path, bool skip_bad_rows, size_t chunk_rows)
    : RawTrace(skip_bad_rows), path_(path), sorter_(chunk_rows) {
  CsvReader csv(path);
  if (!csv.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  const int app = CsvReader::FindColumn(header, "app");
  const int func = CsvReader::FindColumn(header, "func");
  const int end = CsvReader::FindColumn(header, "end_timestamp");
  const int duration = CsvReader::FindColumn(header, "duration");
  if (app < 0 || func < 0 || end < 0 || duration < 0) {
    throw LineError(path, csv.line_number(), "header must name app, func, end_timestamp and duration");
  }
  // Every row has the header's fields (a row cut short is a bad row).
  const size_t min_fields = header.size();
  NameIndex index;
  SimTime earliest = 0, latest = 0;
  bool any = false;
  std::string key;
  while (csv.Next()) {
    const auto& f = csv.fields();
    if (f.size() < min_fields) {
      BadRow(path, csv.line_number(), "expected " + std::to_string(min_fields) + " fields, got " + std::to_string(f.size()));
      continue;
    }
    double end_s = 0, duration_s = 0;
    if (!CsvReader::TryDouble(f[static_cast<size_t>(end)], &end_s) ||
        !CsvReader::TryDouble(f[static_cast<size_t>(duration)], &duration_s)) {
      BadRow(path, csv.line_number(), "end_timestamp and duration must be numbers");
      continue;
    }
    if (duration_s < 0) {
      BadRow(path, csv.line_number(), "duration must be >= 0");
      continue;
    }
    if (f[static_cast<size_t>(app)].empty() || f[static_cast<size_t>(func)].empty()) {
      BadRow(path, csv.line_number(), "empty app or func");
      continue;
    }
    if (!IsValidUtf8(f[static_cast<size_t>(app)]) || !IsValidUtf8(f[static_cast<size_t>(func)])) {
      BadRow(path, csv.line_number(), "function name is not valid UTF-8");
      continue;
    }
    // The arrival, and the span from the earliest arrival to the latest, must be times.
    const double arrival_s = end_s - duration_s;
    if (!SecondsFitSimTime(end_s) || !SecondsFitSimTime(duration_s) || !SecondsFitSimTime(arrival_s)) {
      BadRow(path, csv.line_number(),
             "end_timestamp " + std::string(f[static_cast<size_t>(end)]) + " s and duration " +
                 std::string(f[static_cast<size_t>(duration)]) + " s are beyond the limit of " +
                 std::to_string(kMaxSimSeconds) + " s (" + kSimTimeLimitNote + ")");
      continue;
    }
    const SimTime arrival = SecondsToSim(arrival_s);
    // In uint64: the difference of two times within ±kMaxSimSeconds fits there.
    if (any && static_cast<uint64_t>(std::max(latest, arrival)) - static_cast<uint64_t>(std::min(earliest, arrival)) >
                   static_cast<uint64_t>(kMaxSimSeconds * kNsPerSecond)) {
      BadRow(path, csv.line_number(),
             "arrival " + FormatSimSeconds(arrival) + " s is too far from the others (" + FormatSimSeconds(earliest) +
                 " s .. " + FormatSimSeconds(latest) + " s): the trace would span more than " +
                 std::to_string(kMaxSimSeconds) + " s (" + kSimTimeLimitNote + ")");
      continue;
    }
    key.assign(f[static_cast<size_t>(app)]);
    key += '/';
    key.append(f[static_cast<size_t>(func)]);
    auto [it, inserted] = index.try_emplace(key, static_cast<int32_t>(names_.size()));
    if (inserted) names_.push_back(key);
    earliest = any ? std::min(earliest, arrival) : arrival;
    latest = any ? std::max(latest, arrival) : arrival;
    any = true;
    sorter_.Add(SortRecord{arrival, csv.line_number(), it->second, 0});
  }
  // The first arrival is at 0, unless the trace starts later (its times are from its origin).
  shift_ = earliest < 0 ? -earliest : 0;
  sorter_.Finish();
}

bool AzureFunctions2021Trace::Next(RawRecord* out) {
  SortRecord r;
  if (!sorter_.Next(&r)) return false;
  line_ = static_cast<long>(r.seq);
  out->time = r.time + shift_;
  out->function = names_[static_cast<size_t>(r.value)];
  out->input_tokens = out->output_tokens = -1;
  return true;
}

}  // namespace gpuslice
