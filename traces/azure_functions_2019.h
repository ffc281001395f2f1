// The Azure Functions 2019 trace ("azure-functions-2019"; Shahrad et al., ATC'20).
//
// `invocations_dayNN.csv` holds one row per function: HashOwner, HashApp, HashFunction,
// Trigger, then one column per minute of the day ("1".."1440") with the number of
// invocations in that minute. A function is named by its HashFunction. The optional
// `durations` (average execution time, ms) and `memory` (average allocated MB, per app in the
// original files) files are joined on the function (memory on HashApp when it has no
// HashFunction column) and reported by `gpuslice trace info`.
//
// Counts become arrivals inside each minute by the chosen rule:
//   uniform: exactly `count` independent uniform times in the minute (the default);
//   even:    `count` evenly spaced times from the minute's start;
//   poisson: a Poisson process at count / 60 s inside the minute (the count then varies).
// The rows are held as sparse (minute, count) lists: memory grows with the number of
// functions and their active minutes, never with the number of invocations, except that one
// minute's arrivals are expanded at once (16 bytes each): a minute's invocations over all
// functions may be at most kMaxMinuteInvocations (50,000,000, 800 MB); a row that would take
// a minute past it is a bad row naming the line and the minute's column.
// A function name (HashFunction) or Trigger that is not valid UTF-8 is a bad row.
#ifndef GPUSLICE_TRACES_AZURE_FUNCTIONS_2019_H_
#define GPUSLICE_TRACES_AZURE_FUNCTIONS_2019_H_

#include <string>
#include <vector>

#include "traces/raw_trace.h"

namespace gpuslice {

enum class MinuteSpacing { kUniform, kEven, kPoisson };

// The most invocations one minute may hold over all functions.
inline constexpr long long kMaxMinuteInvocations = 50'000'000;

struct FunctionMetadata {
  std::string name;
  std::string trigger;
  double average_duration_ms = -1;  // -1: not in the durations file
  double average_memory_mb = -1;    // -1: not in the memory file
};

class AzureFunctions2019Trace final : public RawTrace {
 public:
  // Throws InputError on a bad file (or a bad row, unless skipped).
  AzureFunctions2019Trace(const std::string& invocations, const std::string& durations, const std::string& memory,
                          MinuteSpacing spacing, RngStream rng, bool skip_bad_rows);
  bool Next(RawRecord* out) override;
  void CountFunctions(std::unordered_map<std::string, long long>* counts, std::vector<std::string>* order) override;
  std::string Where() const override { return path_; }

  const std::vector<FunctionMetadata>& functions() const { return meta_; }

 private:
  struct MinuteCount {
    int32_t minute;
    int32_t count;
  };
  void LoadInvocations();
  void JoinDurations(const std::string& path);
  void JoinMemory(const std::string& path);
  bool FillMinute();

  std::string path_;
  MinuteSpacing spacing_;
  RngStream rng_;
  std::vector<FunctionMetadata> meta_;
  std::vector<std::string> apps_;
  std::vector<std::vector<MinuteCount>> rows_;  // per function, ascending minutes
  std::vector<size_t> cursor_;                  // per function, next entry of rows_
  int minutes_ = 0;
  int minute_ = -1;
  std::vector<std::pair<SimTime, int32_t>> pending_;  // this minute's arrivals, sorted
  size_t next_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_AZURE_FUNCTIONS_2019_H_
