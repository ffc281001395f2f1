// Side-by-side text table of run summaries, for the terminal.
#ifndef GPUSLICE_TOOLS_TABLE_H_
#define GPUSLICE_TOOLS_TABLE_H_

#include <ostream>
#include <vector>

#include "sim/simulation.h"

namespace gpuslice {

void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_TABLE_H_
