// The comparison of run summaries that `run` and `compare` print, in four formats:
//  - kTable: side-by-side text for the terminal, every line at most kTableWidth characters
//    (runs that do not fit beside each other go into further blocks, and a run name too long
//    for its column is shortened with "..." and written in full once in a legend below);
//  - kCsv: one row per run under stable snake_case columns (run, policy, seed, simulated_s,
//    then the overall metrics named as the HDF5 summary columns of docs/hdf5.md), quoted as
//    RFC 4180 says, numbers in the shortest form that reads back as the same double;
//  - kMarkdown: a GitHub table, one row per run, '|' in names escaped;
//  - kJson: SummaryJson (sim/summary_json.h), pretty-printed.
// Only kTable shows wall-clock time, so the other formats are byte-identical for the same
// scenario and seeds.
#ifndef GPUSLICE_TOOLS_TABLE_H_
#define GPUSLICE_TOOLS_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

#include "sim/simulation.h"

namespace gpuslice {

enum class TableFormat { kTable, kCsv, kMarkdown, kJson };

inline constexpr size_t kTableWidth = 100;

// "table", "csv", "markdown" or "json". Throws InputError for anything else.
TableFormat ParseTableFormat(const std::string& text);

// Writes `runs` to `out` in `format`; `scenario_name` goes into the JSON only.
void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs, TableFormat format,
                     const std::string& scenario_name);

// The kTable format.
void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_TABLE_H_
