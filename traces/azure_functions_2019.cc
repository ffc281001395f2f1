#include "traces/azure_functions_2019.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "sim/util/csv.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

constexpr int kFirstMinuteColumn = 4;

}  // namespace

AzureFunctions2019Trace::AzureFunctions2019Trace(const std::string& invocations, const std::string& durations,
                                                 const std::string& memory, MinuteSpacing spacing, RngStream rng,
                                                 bool skip_bad_rows)
    : RawTrace(skip_bad_rows), path_(invocations), spacing_(spacing), rng_(rng) {
  LoadInvocations();
  if (!durations.empty()) JoinDurations(durations);
  if (!memory.empty()) JoinMemory(memory);
  cursor_.assign(rows_.size(), 0);
}

void AzureFunctions2019Trace::LoadInvocations() {
  CsvReader csv(path_);
  if (!csv.Next()) throw InputError(path_ + ": empty file, expected a header line");
  // A copy: the fields are views into the current line, which the next csv.Next() replaces.
  const std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  if (header.size() < kFirstMinuteColumn + 1 || header[2] != "HashFunction" || header[3] != "Trigger") {
    throw LineError(path_, csv.line_number(),
                    "expected the header HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440");
  }
  const size_t fields = header.size();
  minutes_ = static_cast<int>(fields) - kFirstMinuteColumn;
  // Invocations of each minute over the rows kept so far (FillMinute expands a minute at once).
  std::vector<long long> minute_total(static_cast<size_t>(minutes_), 0);
  std::vector<MinuteCount> row;
  while (csv.Next()) {
    const auto& f = csv.fields();
    if (f.size() != fields) {
      BadRow(path_, csv.line_number(), "expected " + std::to_string(fields) + " fields, got " + std::to_string(f.size()));
      continue;
    }
    row.clear();
    bool bad = false;
    for (int m = 0; m < minutes_ && !bad; ++m) {
      std::string_view v = f[static_cast<size_t>(kFirstMinuteColumn + m)];
      long long count = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), count);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || count < 0 || count > INT32_MAX) {
        BadRow(path_, csv.line_number(),
               "minute " + header[static_cast<size_t>(kFirstMinuteColumn + m)] + ": '" + std::string(v) +
                   "' is not a count (an integer in [0, 2147483647])");
        bad = true;
      } else if (count > 0) {
        if (minute_total[static_cast<size_t>(m)] + count > kMaxMinuteInvocations) {
          BadRow(path_, csv.line_number(),
                 "minute " + header[static_cast<size_t>(kFirstMinuteColumn + m)] + ": " + std::to_string(count) +
                     " invocations bring the minute's total over all functions to " +
                     std::to_string(minute_total[static_cast<size_t>(m)] + count) + ", more than " +
                     std::to_string(kMaxMinuteInvocations) + ", the most this reader holds in memory at once");
          bad = true;
        } else {
          row.push_back({m, static_cast<int32_t>(count)});
        }
      }
    }
    if (bad) continue;
    if (f[2].empty()) {
      BadRow(path_, csv.line_number(), "empty HashFunction");
      continue;
    }
    if (!IsValidUtf8(f[2]) || !IsValidUtf8(f[3])) {
      BadRow(path_, csv.line_number(), std::string(IsValidUtf8(f[2]) ? "Trigger" : "function name") +
                                           " is not valid UTF-8");
      continue;
    }
    for (const MinuteCount& mc : row) minute_total[static_cast<size_t>(mc.minute)] += mc.count;
    meta_.push_back(FunctionMetadata{std::string(f[2]), std::string(f[3])});
    apps_.emplace_back(f[1]);
    rows_.push_back(row);
  }
}

void AzureFunctions2019Trace::JoinDurations(const std::string& path) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < meta_.size(); ++i) index.emplace(meta_[i].name, i);
  CsvReader csv(path);
  if (!csv.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  const int fn = CsvReader::FindColumn(header, "HashFunction");
  const int avg = CsvReader::FindColumn(header, "Average");
  if (fn < 0 || avg < 0) throw LineError(path, csv.line_number(), "header must name HashFunction and Average");
  while (csv.Next()) {
    csv.RequireFields(static_cast<size_t>(std::max(fn, avg)) + 1);
    auto it = index.find(std::string(csv.fields()[static_cast<size_t>(fn)]));
    if (it == index.end()) continue;
    const double ms = csv.Double(static_cast<size_t>(avg), "Average");
    if (ms < 0) {
      BadRow(path, csv.line_number(), "Average must be >= 0 (got " + std::string(csv.fields()[static_cast<size_t>(avg)]) + ")");
      continue;
    }
    meta_[it->second].average_duration_ms = ms;
  }
}

void AzureFunctions2019Trace::JoinMemory(const std::string& path) {
  CsvReader csv(path);
  if (!csv.Next()) throw InputError(path + ": empty file, expected a header line");
  std::vector<std::string> header(csv.fields().begin(), csv.fields().end());
  const int fn = CsvReader::FindColumn(header, "HashFunction");
  const int app = CsvReader::FindColumn(header, "HashApp");
  const int avg = CsvReader::FindColumn(header, "AverageAllocatedMb");
  if ((fn < 0 && app < 0) || avg < 0) {
    throw LineError(path, csv.line_number(), "header must name HashFunction or HashApp, and AverageAllocatedMb");
  }
  // Per function where the file has functions (invitro's layout), else per app (the original).
  const bool by_function = fn >= 0;
  std::unordered_map<std::string, std::vector<size_t>> index;
  for (size_t i = 0; i < meta_.size(); ++i) index[by_function ? meta_[i].name : apps_[i]].push_back(i);
  const int key = by_function ? fn : app;
  while (csv.Next()) {
    csv.RequireFields(static_cast<size_t>(std::max(key, avg)) + 1);
    auto it = index.find(std::string(csv.fields()[static_cast<size_t>(key)]));
    if (it == index.end()) continue;
    const double mb = csv.Double(static_cast<size_t>(avg), "AverageAllocatedMb");
    if (mb < 0) {
      BadRow(path, csv.line_number(),
             "AverageAllocatedMb must be >= 0 (got " + std::string(csv.fields()[static_cast<size_t>(avg)]) + ")");
      continue;
    }
    for (size_t i : it->second) meta_[i].average_memory_mb = mb;
  }
}

void AzureFunctions2019Trace::CountFunctions(std::unordered_map<std::string, long long>* counts,
                                             std::vector<std::string>* order) {
  last_time_ = static_cast<SimTime>(minutes_) * 60 * kNsPerSecond;  // the end of the last minute
  for (size_t i = 0; i < meta_.size(); ++i) {
    long long total = 0;
    for (const MinuteCount& mc : rows_[i]) total += mc.count;
    if (total == 0) continue;
    auto [it, inserted] = counts->try_emplace(meta_[i].name, 0);
    if (inserted) order->push_back(meta_[i].name);
    it->second += total;
  }
}

bool AzureFunctions2019Trace::FillMinute() {
  pending_.clear();
  next_ = 0;
  while (pending_.empty()) {
    if (++minute_ >= minutes_) return false;
    const SimTime begin = static_cast<SimTime>(minute_) * 60 * kNsPerSecond;
    const SimTime length = 60 * kNsPerSecond;
    for (size_t fn = 0; fn < rows_.size(); ++fn) {
      size_t& c = cursor_[fn];
      if (c >= rows_[fn].size() || rows_[fn][c].minute != minute_) continue;
      const int32_t count = rows_[fn][c++].count;
      const int32_t id = static_cast<int32_t>(fn);
      switch (spacing_) {
        case MinuteSpacing::kUniform:
          for (int32_t k = 0; k < count; ++k) pending_.push_back({begin + static_cast<SimTime>(rng_.Uniform() * length), id});
          break;
        case MinuteSpacing::kEven:
          for (int32_t k = 0; k < count; ++k) pending_.push_back({begin + length * k / count, id});
          break;
        case MinuteSpacing::kPoisson: {
          const double mean_gap = static_cast<double>(length) / count;
          for (double t = rng_.Exponential(mean_gap); t < static_cast<double>(length); t += rng_.Exponential(mean_gap)) {
            pending_.push_back({begin + static_cast<SimTime>(t), id});
          }
          break;
        }
      }
    }
    std::sort(pending_.begin(), pending_.end());
  }
  return true;
}

bool AzureFunctions2019Trace::Next(RawRecord* out) {
  if (next_ >= pending_.size() && !FillMinute()) return false;
  const auto& [t, fn] = pending_[next_++];
  out->time = t;
  out->function = meta_[static_cast<size_t>(fn)].name;
  out->input_tokens = out->output_tokens = -1;
  return true;
}

}  // namespace gpuslice
