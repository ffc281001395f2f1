// A sweep's tables as HDF5 (DIR/sweep.h5): groups `runs` and `summary`, each a table of
// equal-length 1-D columns as in runs.csv and summary.csv, and root attributes `spec` (the
// spec as JSON), `parameters` and `metrics` (JSON lists). Layout: docs/sweeps.md.
#ifndef GPUSLICE_SIM_SWEEP_OUTPUT_H_
#define GPUSLICE_SIM_SWEEP_OUTPUT_H_

#include <string>

#include "sim/sweep.h"

namespace gpuslice {

// Writes through a temporary file and a rename. Throws InputError if it cannot.
void WriteSweepH5(const std::string& path, const SweepSpec& spec, const SweepTables& tables);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_SWEEP_OUTPUT_H_
