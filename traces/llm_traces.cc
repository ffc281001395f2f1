#include "traces/llm_traces.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sim/util/error.h"
#include "traces/csv_trace.h"
#include "traces/datetime.h"
#include "traces/trace_time.h"

namespace gpuslice {
namespace {

int RequireColumn(const CsvReader& csv, const std::vector<std::string>& header, const std::string& name) {
  int c = CsvReader::FindColumn(header, name);
  if (c < 0) throw LineError(csv.path(), csv.line_number(), "missing column '" + name + "'");
  return c;
}

std::vector<std::string> ReadHeader(CsvReader& csv) {
  if (!csv.Next()) throw InputError(csv.path() + ": empty file, expected a header line");
  return {csv.fields().begin(), csv.fields().end()};
}

}  // namespace

bool CalendarOrigin::Since(const CalendarTime& t, std::string_view text, SimTime* out, std::string* why) {
  if (!set_) {
    set_ = true;
    origin_ = t;
    origin_text_ = text;
  }
  // Seconds since 1970 of years 0000..9999 are within ±3e11: the difference cannot overflow.
  const int64_t seconds = t.seconds - origin_.seconds;
  const int64_t magnitude = seconds < 0 ? -seconds : seconds;
  if (magnitude > kMaxSimSeconds) {
    *why = "'" + std::string(text) + "' is " + std::to_string(seconds) + " s from the first row's '" + origin_text_ +
           "', more than " + std::to_string(kMaxSimSeconds) + " s (" + kSimTimeLimitNote + ")";
    return false;
  }
  *out = seconds * kNsPerSecond + (t.nanos - origin_.nanos);
  return true;
}

AzureLlmTrace::AzureLlmTrace(const std::string& path, std::string function, bool skip_bad_rows)
    : RawTrace(skip_bad_rows), csv_(path), function_(std::move(function)) {
  std::vector<std::string> header = ReadHeader(csv_);
  time_col_ = RequireColumn(csv_, header, "TIMESTAMP");
  context_col_ = RequireColumn(csv_, header, "ContextTokens");
  generated_col_ = RequireColumn(csv_, header, "GeneratedTokens");
  fields_ = header.size();
}

bool AzureLlmTrace::Next(RawRecord* out) {
  while (csv_.Next()) {
    const auto& f = csv_.fields();
    CalendarTime t;
    if (f.size() < fields_) {
      BadRow(csv_.path(), csv_.line_number(),
             "expected " + std::to_string(fields_) + " fields, got " + std::to_string(f.size()));
      continue;
    }
    if (!ParseCalendarTime(f[static_cast<size_t>(time_col_)], &t)) {
      BadRow(csv_.path(), csv_.line_number(),
             "TIMESTAMP '" + std::string(f[static_cast<size_t>(time_col_)]) + "' is not YYYY-MM-DD HH:MM:SS[.f]");
      continue;
    }
    if (!ReadTokens(csv_, context_col_, &out->input_tokens) || !ReadTokens(csv_, generated_col_, &out->output_tokens) ||
        out->input_tokens < 0 || out->output_tokens < 0) {
      BadRow(csv_.path(), csv_.line_number(), "ContextTokens and GeneratedTokens must be integers in [0, 2147483647]");
      continue;
    }
    std::string why;
    if (!origin_.Since(t, f[static_cast<size_t>(time_col_)], &out->time, &why)) {
      BadRow(csv_.path(), csv_.line_number(), "TIMESTAMP " + why);
      continue;
    }
    out->function = function_;
    return true;
  }
  return false;
}

AlibabaGenAiTrace::AlibabaGenAiTrace(const std::string& path, const std::string& function_column, bool skip_bad_rows)
    : RawTrace(skip_bad_rows), csv_(path), function_column_(function_column) {
  std::vector<std::string> header = ReadHeader(csv_);
  time_col_ = RequireColumn(csv_, header, "gmt_create");
  function_col_ = RequireColumn(csv_, header, function_column);
  fields_ = header.size();
}

bool AlibabaGenAiTrace::Next(RawRecord* out) {
  while (csv_.Next()) {
    const auto& f = csv_.fields();
    CalendarTime t;
    if (f.size() < fields_) {
      BadRow(csv_.path(), csv_.line_number(),
             "expected " + std::to_string(fields_) + " fields, got " + std::to_string(f.size()));
      continue;
    }
    if (!ParseCalendarTime(f[static_cast<size_t>(time_col_)], &t)) {
      BadRow(csv_.path(), csv_.line_number(),
             "gmt_create '" + std::string(f[static_cast<size_t>(time_col_)]) + "' is not YYYY-MM-DD HH:MM:SS");
      continue;
    }
    std::string_view name = f[static_cast<size_t>(function_col_)];
    if (name.empty()) {
      BadRow(csv_.path(), csv_.line_number(), "empty " + function_column_);
      continue;
    }
    if (!IsValidUtf8(name)) {
      BadRow(csv_.path(), csv_.line_number(), "function name is not valid UTF-8");
      continue;
    }
    std::string why;
    if (!origin_.Since(t, f[static_cast<size_t>(time_col_)], &out->time, &why)) {
      BadRow(csv_.path(), csv_.line_number(), "gmt_create " + why);
      continue;
    }
    out->function = name;
    out->input_tokens = out->output_tokens = -1;
    return true;
  }
  return false;
}

MooncakeTrace::MooncakeTrace(const std::string& path, std::string function, bool skip_bad_rows)
    : RawTrace(skip_bad_rows), reader_(path), function_(std::move(function)) {}

bool MooncakeTrace::Next(RawRecord* out) {
  while (reader_.NextRaw()) {
    std::string_view line = reader_.line();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      BadRow(reader_.path(), reader_.line_number(), "malformed JSON line");
      continue;
    }
    auto ts = j.find("timestamp");
    auto in = j.find("input_length");
    auto outlen = j.find("output_length");
    if (ts == j.end() || !ts->is_number() || ts->get<double>() < 0) {
      BadRow(reader_.path(), reader_.line_number(), "\"timestamp\" must be a number of ms >= 0");
      continue;
    }
    if (!SecondsFitSimTime(ts->get<double>() / 1000)) {
      BadRow(reader_.path(), reader_.line_number(),
             "\"timestamp\" " + ts->dump() + " ms is beyond the limit of " + std::to_string(kMaxSimSeconds) +
                 " s (" + kSimTimeLimitNote + ")");
      continue;
    }
    auto tokens = [](nlohmann::json::const_iterator it, nlohmann::json::const_iterator end) -> int32_t {
      if (it == end) return -1;
      if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > INT32_MAX) return -2;
      return static_cast<int32_t>(it->get<long long>());
    };
    out->input_tokens = tokens(in, j.cend());
    out->output_tokens = tokens(outlen, j.cend());
    if (out->input_tokens == -2 || out->output_tokens == -2) {
      BadRow(reader_.path(), reader_.line_number(), "\"input_length\" and \"output_length\" must be integers >= 0");
      continue;
    }
    out->time = MillisToSim(ts->get<double>());
    out->function = function_;
    return true;
  }
  return false;
}

SpreadTrace::SpreadTrace(std::unique_ptr<RawTrace> inner, SimTime resolution, Mode mode, RngStream rng)
    : RawTrace(false), inner_(std::move(inner)), resolution_(resolution), mode_(mode), rng_(rng) {}

bool SpreadTrace::FillGroup() {
  group_.clear();
  next_ = 0;
  RawRecord r;
  if (!have_lookahead_) {
    if (!inner_->Next(&r)) return false;
    lookahead_ = Held{r.time, std::string(r.function), r.input_tokens, r.output_tokens};
  }
  have_lookahead_ = false;
  group_.push_back(lookahead_);
  while (inner_->Next(&r)) {
    if (r.time != group_.front().time) {
      lookahead_ = Held{r.time, std::string(r.function), r.input_tokens, r.output_tokens};
      have_lookahead_ = true;
      break;
    }
    group_.push_back(Held{r.time, std::string(r.function), r.input_tokens, r.output_tokens});
  }
  const SimTime base = group_.front().time;
  const SimTime k = static_cast<SimTime>(group_.size());
  // (A next group earlier than this one, out of order, leaves this one unspread.)
  const SimTime width =
      have_lookahead_ ? std::max<SimTime>(0, std::min(resolution_, lookahead_.time - base)) : resolution_;
  if (mode_ == Mode::kEven) {
    for (SimTime i = 0; i < k; ++i) group_[static_cast<size_t>(i)].time = base + width * i / k;
  } else {
    std::vector<SimTime> offsets(group_.size());
    for (SimTime& o : offsets) o = static_cast<SimTime>(rng_.Uniform() * static_cast<double>(width));
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 0; i < group_.size(); ++i) group_[i].time = base + offsets[i];
  }
  return true;
}

bool SpreadTrace::Next(RawRecord* out) {
  if (next_ >= group_.size() && !FillGroup()) return false;
  const Held& h = group_[next_++];
  current_ = h.function;
  out->time = h.time;
  out->function = current_;
  out->input_tokens = h.input_tokens;
  out->output_tokens = h.output_tokens;
  return true;
}

}  // namespace gpuslice
