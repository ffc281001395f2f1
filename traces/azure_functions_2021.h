// The Azure Functions invocation trace 2021 ("azure-functions-2021"; Zhang et al., SOSP'21).
//
// One row per invocation: app, func, end_timestamp, duration (both in seconds since the
// trace's start). A function is named "app/func" (func is unique only within its app). The
// arrival is end_timestamp − duration. The published file is not sorted, so the reader sorts
// it first, by arrival and then by row order, with an external merge sort: chunks of 4 M rows
// are sorted in memory and spilled to anonymous temporary files, then merged as the
// simulation reads. Memory stays under ~100 MB plus the function names, whatever the size
// of the file. Arrivals before the trace's origin (a duration longer than its end time) shift
// the whole trace so that the first arrival is at 0. A row whose times are past SimTime's range
// (kMaxSimSeconds, about 292 years), or that would make the trace span more than that, is a
// bad row naming the limit; so is an app or func that is not valid UTF-8.
#ifndef GPUSLICE_TRACES_AZURE_FUNCTIONS_2021_H_
#define GPUSLICE_TRACES_AZURE_FUNCTIONS_2021_H_

#include <string>
#include <vector>

#include "traces/external_sort.h"
#include "traces/raw_trace.h"

namespace gpuslice {

class AzureFunctions2021Trace final : public RawTrace {
 public:
  // Reads and sorts the whole file; throws InputError on a bad row unless skipped.
  AzureFunctions2021Trace(const std::string& path, bool skip_bad_rows, size_t chunk_rows = size_t{1} << 22);
  bool Next(RawRecord* out) override;
  std::string Where() const override { return path_ + ":" + std::to_string(line_); }
  size_t sort_runs() const { return sorter_.runs(); }

 private:
  std::string path_;
  ExternalSorter sorter_;
  std::vector<std::string> names_;
  SimTime shift_ = 0;
  long line_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_AZURE_FUNCTIONS_2021_H_
