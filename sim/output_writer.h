// ResultFile: one HDF5 file per invocation, with one group per run, laid out as documented
// in docs/hdf5.md.
//
// The file is written under a temporary name beside the final one and renamed only by
// Commit(), so an interrupted or failed invocation never leaves a half-written result at the
// final path; the destructor removes an uncommitted temporary file.
#ifndef GPUSLICE_SIM_OUTPUT_WRITER_H_
#define GPUSLICE_SIM_OUTPUT_WRITER_H_

#include <memory>
#include <string>

#include "sim/hdf5_file.h"
#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice {

class ResultFile {
 public:
  // Creates the temporary file (and the folder of `final_path`). `command` is recorded.
  ResultFile(const std::string& final_path, const std::string& scenario_name, const std::string& command);
  ~ResultFile();
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  // Creates the run's group. When the scenario asks for per-request output, returns the sink
  // that streams one row per request into it; else nullptr. The sink lives until EndRun.
  RequestSink* BeginRun(const std::string& run_name, const Scenario& scenario);
  // Writes the run's attributes, summary, time series and actions.
  void EndRun(const RunResult& result, const Scenario& scenario);

  // Closes the file and moves it to its final path.
  void Commit();

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string final_path_;
  std::string temp_path_;
  h5::Handle file_;
  h5::Handle runs_;
  h5::Handle run_;
  std::unique_ptr<RequestSink> sink_;
  bool committed_ = false;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_OUTPUT_WRITER_H_
