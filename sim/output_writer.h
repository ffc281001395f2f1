// ResultFile: one HDF5 file per invocation, with one group per run, laid out as documented
// in docs/hdf5.md.
//
// The file is written under a temporary name beside the final one and renamed only by
// Commit(), so a failed invocation never leaves a half-written result at the final path; the
// destructor removes an uncommitted temporary file. An interrupted invocation may commit the
// runs that finished (Commit(order, interrupted = true)).
#ifndef GPUSLICE_SIM_OUTPUT_WRITER_H_
#define GPUSLICE_SIM_OUTPUT_WRITER_H_

#include <memory>
#include <string>

#include "sim/hdf5_file.h"
#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace gpuslice {

// The schema version stored as the root attribute `schema_version` (docs/hdf5.md).
inline constexpr int kResultSchemaVersion = 3;

// The git commit the binary was built from ("<sha>[-dirty]", or "unknown" outside a checkout).
const char* GitCommit();

// Whether `run_name` can name a run's HDF5 group (runs/<name>): not empty, ".", "..", nor
// holding a '/' or a NUL. CheckResultRunName throws InputError when it cannot.
bool IsResultRunName(const std::string& run_name);
inline constexpr const char* kResultRunNameRule =
    "cannot name a group of the HDF5 result (no '/', not empty, '.' or '..'); rename it, or use --no-output";
void CheckResultRunName(const std::string& run_name);

// One run's group while it is written; from ResultFile::BeginRun to EndRun or DiscardRun.
class ResultRun {
 public:
  ~ResultRun();
  ResultRun(const ResultRun&) = delete;
  ResultRun& operator=(const ResultRun&) = delete;

  // The sink that streams one row per request into the run's group when the scenario asks
  // for per-request output, else nullptr. It may be used from the run's own thread.
  RequestSink* request_sink() const { return sink_.get(); }
  // The sinks that stream the run's time series and actions to its group, for
  // RunOptions::series_sink and action_sink. Used from the run's own thread.
  SeriesSink* series_sink() const;
  ActionSink* action_sink() const;
  const std::string& name() const { return name_; }

 private:
  friend class ResultFile;
  ResultRun() = default;
  std::string name_;
  h5::Handle group_;
  std::unique_ptr<RequestSink> sink_;
  std::unique_ptr<SeriesSink> series_;
  std::unique_ptr<ActionSink> actions_;
};

// Thread-safe: runs may be begun, written and ended from several threads at once (every
// HDF5 call holds h5::LibraryMutex()).
class ResultFile {
 public:
  // Creates the temporary file (and the folder of `final_path`) and records `command`, the
  // version, the git commit and the schema version. Throws InputError if it cannot write there
  // (leaving nothing).
  ResultFile(const std::string& final_path, const std::string& scenario_name, const std::string& command);
  ~ResultFile();
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  // Creates the run's group `runs/<run_name>`. REQUIRES: no other run of that name.
  std::unique_ptr<ResultRun> BeginRun(const std::string& run_name, const Scenario& scenario);
  // Flushes the run's streamed time series and actions and writes its attributes (with its
  // resolved scenario and its summary as JSON), summary and latency histogram.
  void EndRun(std::unique_ptr<ResultRun> run, const RunResult& result, const Scenario& scenario);
  // Removes a run that did not finish (interrupted): the file keeps only finished runs.
  void DiscardRun(std::unique_ptr<ResultRun> run);

  // Records the runs in order (root attribute `run_order`, a JSON list) and whether the
  // invocation was interrupted before all its runs finished, closes the file and moves it to
  // its final path. REQUIRES: every begun run ended or discarded. Throws InputError if the
  // rename fails (the destructor then removes the temporary file).
  void Commit(const std::vector<std::string>& run_order, bool interrupted = false);

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  // Closes and removes the temporary file, and the folders the constructor made if empty.
  void Discard() noexcept;

  std::string final_path_;
  std::string temp_path_;
  std::vector<std::string> made_folders_;  // by the constructor, for the final path; outermost first
  h5::Handle file_;
  h5::Handle runs_;
  bool committed_ = false;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_OUTPUT_WRITER_H_
