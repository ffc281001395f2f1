// Readers of request-level serving traces with calendar or millisecond timestamps.
//
//  - "azure-llm": the Azure LLM inference traces 2023 and 2024 (Patel et al., ISCA'24):
//    TIMESTAMP ("YYYY-MM-DD HH:MM:SS.fffffff"), ContextTokens, GeneratedTokens. One service
//    per file, so the source names its function. Tokens are kept on each request.
//  - "alibaba-genai": Alibaba's 2026 GenAI serving trace (lora_request_trace.csv):
//    gmt_create ("YYYY-MM-DD HH:MM:SS", 1 s resolution) and the model version
//    (checkpoint_model_version_id, or another column) as the function. A row with an empty
//    function field is a bad row.
//  - "mooncake": Mooncake's FAST'25 traces, JSON lines with "timestamp" (ms since the
//    trace's start), "input_length" and "output_length" (tokens). The source names its
//    function.
// A row with fewer fields than the header is a bad row.
// Calendar timestamps are read as naive times; the first row is the trace's origin (any
// date of years 0000..9999, before 1970 too). A row whose time is more than kMaxSimSeconds
// (about 292 years) from the origin is a bad row naming that limit, as is a function name
// that is not valid UTF-8.
#ifndef GPUSLICE_TRACES_LLM_TRACES_H_
#define GPUSLICE_TRACES_LLM_TRACES_H_

#include <deque>
#include <string>
#include <string_view>

#include "sim/util/csv.h"
#include "traces/datetime.h"
#include "traces/raw_trace.h"

namespace gpuslice {

// The times of a calendar trace, from its first row's.
class CalendarOrigin {
 public:
  // The time of `t` since the first time given (which becomes the origin). False, with
  // *why, if it is too far from it for SimTime.
  bool Since(const CalendarTime& t, std::string_view text, SimTime* out, std::string* why);

 private:
  bool set_ = false;
  CalendarTime origin_;
  std::string origin_text_;
};

class AzureLlmTrace final : public RawTrace {
 public:
  AzureLlmTrace(const std::string& path, std::string function, bool skip_bad_rows);
  bool Next(RawRecord* out) override;
  std::string Where() const override { return csv_.path() + ":" + std::to_string(csv_.line_number()); }

 private:
  CsvReader csv_;
  std::string function_;
  int time_col_, context_col_, generated_col_;
  size_t fields_ = 0;  // the header's: a row with fewer is a bad row
  CalendarOrigin origin_;
};

class AlibabaGenAiTrace final : public RawTrace {
 public:
  AlibabaGenAiTrace(const std::string& path, const std::string& function_column, bool skip_bad_rows);
  bool Next(RawRecord* out) override;
  std::string Where() const override { return csv_.path() + ":" + std::to_string(csv_.line_number()); }

 private:
  CsvReader csv_;
  int time_col_, function_col_;
  std::string function_column_;
  size_t fields_ = 0;  // the header's: a row with fewer is a bad row
  CalendarOrigin origin_;
};

class MooncakeTrace final : public RawTrace {
 public:
  MooncakeTrace(const std::string& path, std::string function, bool skip_bad_rows);
  bool Next(RawRecord* out) override;
  std::string Where() const override { return reader_.path() + ":" + std::to_string(reader_.line_number()); }

 private:
  CsvReader reader_;  // used only for its line reading
  std::string function_;
};

// Spreads records that share a timestamp over the following `resolution`: for traces whose
// clock is coarse (Alibaba's 1 s), so that a second's requests do not all arrive at once.
//   even:    the k records of a group at t + i·resolution/k;
//   uniform: independent uniform offsets in [0, resolution), sorted.
// A group never spreads past the next group's time, so order is kept. A group is held in
// memory until it is spread; its size is bounded by the trace's burst.
class SpreadTrace final : public RawTrace {
 public:
  enum class Mode { kEven, kUniform };
  SpreadTrace(std::unique_ptr<RawTrace> inner, SimTime resolution, Mode mode, RngStream rng);
  bool Next(RawRecord* out) override;
  void CountFunctions(std::unordered_map<std::string, long long>* counts, std::vector<std::string>* order) override {
    inner_->CountFunctions(counts, order);
  }
  SimTime last_time() const override { return inner_->last_time() + resolution_; }
  std::string Where() const override { return inner_->Where(); }
  long long skipped_rows() const override { return inner_->skipped_rows(); }

 private:
  struct Held {
    SimTime time;
    std::string function;
    int32_t input_tokens, output_tokens;
  };
  bool FillGroup();

  std::unique_ptr<RawTrace> inner_;
  SimTime resolution_;
  Mode mode_;
  RngStream rng_;
  std::vector<Held> group_;
  size_t next_ = 0;
  bool have_lookahead_ = false;
  Held lookahead_;
  std::string current_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_LLM_TRACES_H_
