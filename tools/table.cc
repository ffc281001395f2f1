#include "tools/table.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <string>

#include "sim/summary_json.h"
#include "sim/util/csv.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

constexpr size_t kMaxLabelWidth = 40;   // the metric names' column
constexpr size_t kMaxHeaderWidth = 20;  // a run's column, unless its numbers need more
constexpr size_t kColumnGap = 2;

// printf of one or two doubles, however long the result.
template <typename... Doubles>
std::string FormatNumbers(const char* fmt, Doubles... values) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, fmt, values...);
  if (n < static_cast<int>(sizeof buf)) return buf;
  std::string long_text(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(long_text.data(), long_text.size(), fmt, values...);
  long_text.pop_back();
  return long_text;
}

std::string Format(const char* fmt, double a) { return FormatNumbers(fmt, a); }
std::string Format2(const char* fmt, double a, double b) { return FormatNumbers(fmt, a, b); }

double Fragmentation(const ModelSummary& s) {
  return s.whole_gpu_s > 0 ? 1.0 - s.fractional_gpu_s / s.whole_gpu_s : 0.0;
}

std::string RunHeader(const RunResult& r) {
  return r.run_name + (r.run_name == r.policy ? "" : " (" + r.policy + ")");
}

// `text` cut to `width` bytes by replacing its middle with "...", so that both the start and
// the end (where names tend to differ) stay; never splits a UTF-8 sequence.
// REQUIRES: width >= 3.
std::string Shorten(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  auto continuation = [&](size_t at) { return (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80; };
  size_t head = (width - 3) / 2, tail_start = text.size() - (width - 3 - head);
  while (head > 0 && continuation(head)) --head;
  while (tail_start < text.size() && continuation(tail_start)) ++tail_start;
  return text.substr(0, head) + "..." + text.substr(tail_start);
}

void PrintTextTable(std::ostream& out, const std::vector<RunResult>& runs) {
  using Cell = std::function<std::string(const ModelSummary&)>;
  const std::vector<std::pair<std::string, Cell>> metrics = {
      {"requests", [](const ModelSummary& s) { return std::to_string(s.arrived); }},
      {"completed", [](const ModelSummary& s) { return std::to_string(s.completed); }},
      {"dropped", [](const ModelSummary& s) { return std::to_string(s.dropped_total); }},
      {"SLO violations", [](const ModelSummary& s) {
         return std::to_string(s.violations) + Format(" (%.2f%%)", 100.0 * s.violation_rate);
       }},
      {"latency mean / p50 (ms)", [](const ModelSummary& s) {
         return Format2("%.1f / %.1f", s.latency_mean_ms, s.latency_p50_ms);
       }},
      {"latency p90 / p99 (ms)", [](const ModelSummary& s) {
         return Format2("%.1f / %.1f", s.latency_p90_ms, s.latency_p99_ms);
       }},
      {"latency max (ms)", [](const ModelSummary& s) { return Format("%.1f", s.latency_max_ms); }},
      {"mean batch size", [](const ModelSummary& s) { return Format("%.2f", s.mean_batch_size); }},
      {"cold starts", [](const ModelSummary& s) { return std::to_string(s.cold_starts); }},
      {"peak instances", [](const ModelSummary& s) { return std::to_string(s.peak_instances); }},
      {"GPU-s fractional / whole", [](const ModelSummary& s) {
         return Format2("%.1f / %.1f", s.fractional_gpu_s, s.whole_gpu_s);
       }},
      {"cost USD fractional / whole", [](const ModelSummary& s) {
         return Format2("%.3f / %.3f", s.fractional_usd, s.whole_usd);
       }},
      {"fragmentation of held GPUs", [](const ModelSummary& s) { return Format("%.1f%%", 100.0 * Fragmentation(s)); }},
      {"SM-s held / busy", [](const ModelSummary& s) {
         return Format2("%.0f / %.0f", s.sm_seconds_held, s.sm_seconds_busy);
       }},
  };

  // labels[row]; cells[run][row].
  std::vector<std::string> labels;
  std::vector<std::vector<std::string>> cells(runs.size());
  for (const auto& [label, cell] : metrics) {
    labels.push_back(label);
    for (size_t i = 0; i < runs.size(); ++i) cells[i].push_back(cell(runs[i].overall));
  }
  if (!runs.empty() && runs.front().models.size() > 1) {
    for (size_t m = 0; m < runs.front().models.size(); ++m) {
      labels.push_back(runs.front().models[m].name + ": viol. % / p99 ms");
      for (size_t i = 0; i < runs.size(); ++i) {
        const ModelSummary& s = runs[i].models[m];
        cells[i].push_back(Format2("%.2f%% / %.1f", 100.0 * s.violation_rate, s.latency_p99_ms));
      }
    }
  }
  labels.push_back("simulated s / wall s");
  for (size_t i = 0; i < runs.size(); ++i) cells[i].push_back(Format2("%.0f / %.2f", runs[i].simulated_s, runs[i].wall_s));

  size_t label_width = 0;
  for (std::string& label : labels) {
    label = Shorten(label, kMaxLabelWidth);
    label_width = std::max(label_width, label.size());
  }

  // Each run's column: as wide as its numbers, and its name up to kMaxHeaderWidth.
  std::vector<std::string> headers(runs.size());
  std::vector<size_t> width(runs.size());
  std::vector<size_t> shortened;
  for (size_t i = 0; i < runs.size(); ++i) {
    size_t numbers = 0;
    for (const std::string& c : cells[i]) numbers = std::max(numbers, c.size());
    const std::string full = RunHeader(runs[i]);
    width[i] = std::max(numbers, std::min(full.size(), kMaxHeaderWidth));
    headers[i] = full;
    if (full.size() > width[i]) {
      // The run's number, which the legend repeats, and its name without the policy.
      std::string number = "[";  // appended piece by piece: GCC 12 warns on "[" + std::string
      number.append(std::to_string(i + 1)).append("] ");
      headers[i] = number + Shorten(runs[i].run_name, width[i] - number.size());
      shortened.push_back(i);
    }
  }

  auto print_row = [&](const std::string& label, size_t first, size_t last, auto cell) {
    out << label << std::string(label_width - label.size(), ' ');
    for (size_t i = first; i < last; ++i) {
      const std::string& c = cell(i);
      out << std::string(kColumnGap + width[i] - std::min(width[i], c.size()), ' ') << c;
    }
    out << '\n';
  };
  size_t first = 0;
  do {
    // As many runs as fit beside the labels, and at least one.
    size_t last = first, used = label_width;
    while (last < runs.size() && (last == first || used + kColumnGap + width[last] <= kTableWidth)) {
      used += kColumnGap + width[last];
      ++last;
    }
    if (first > 0) out << '\n';
    print_row("", first, last, [&](size_t i) -> const std::string& { return headers[i]; });
    for (size_t row = 0; row < labels.size(); ++row) {
      print_row(labels[row], first, last, [&](size_t i) -> const std::string& { return cells[i][row]; });
    }
    first = last;
  } while (first < runs.size());
  for (size_t i : shortened) out << "[" << i + 1 << "] " << RunHeader(runs[i]) << '\n';
}

void PrintCsv(std::ostream& out, const std::vector<RunResult>& runs) {
  using Field = std::function<std::string(const RunResult&)>;
  auto count = [](uint64_t ModelSummary::*field) -> Field {
    return [field](const RunResult& r) { return std::to_string(r.overall.*field); };
  };
  auto real = [](double ModelSummary::*field) -> Field {
    return [field](const RunResult& r) { return ExactNumber(r.overall.*field); };
  };
  const std::vector<std::pair<const char*, Field>> columns = {
      {"run", [](const RunResult& r) { return CsvField(r.run_name); }},
      {"policy", [](const RunResult& r) { return CsvField(r.policy); }},
      {"seed", [](const RunResult& r) { return std::to_string(r.seed); }},
      {"simulated_s", [](const RunResult& r) { return ExactNumber(r.simulated_s); }},
      {"arrived", count(&ModelSummary::arrived)},
      {"completed", count(&ModelSummary::completed)},
      {"dropped_queue_timeout", [](const RunResult& r) { return std::to_string(r.overall.dropped[0]); }},
      {"dropped_no_capacity", [](const RunResult& r) { return std::to_string(r.overall.dropped[1]); }},
      {"dropped_admission", [](const RunResult& r) { return std::to_string(r.overall.dropped[2]); }},
      {"dropped_total", count(&ModelSummary::dropped_total)},
      {"in_flight_at_end", count(&ModelSummary::in_flight_at_end)},
      {"violations", count(&ModelSummary::violations)},
      {"violation_rate", real(&ModelSummary::violation_rate)},
      {"throughput_rps", real(&ModelSummary::throughput_rps)},
      {"latency_mean_ms", real(&ModelSummary::latency_mean_ms)},
      {"latency_p50_ms", real(&ModelSummary::latency_p50_ms)},
      {"latency_p90_ms", real(&ModelSummary::latency_p90_ms)},
      {"latency_p99_ms", real(&ModelSummary::latency_p99_ms)},
      {"latency_max_ms", real(&ModelSummary::latency_max_ms)},
      {"queue_wait_mean_ms", real(&ModelSummary::queue_wait_mean_ms)},
      {"queue_wait_p99_ms", real(&ModelSummary::queue_wait_p99_ms)},
      {"cold_starts", count(&ModelSummary::cold_starts)},
      {"peak_instances", [](const RunResult& r) { return std::to_string(r.overall.peak_instances); }},
      {"mean_batch_size", real(&ModelSummary::mean_batch_size)},
      {"fractional_gpu_s", real(&ModelSummary::fractional_gpu_s)},
      {"whole_gpu_s", real(&ModelSummary::whole_gpu_s)},
      {"fractional_usd", real(&ModelSummary::fractional_usd)},
      {"whole_usd", real(&ModelSummary::whole_usd)},
      {"sm_seconds_held", real(&ModelSummary::sm_seconds_held)},
      {"sm_seconds_busy", real(&ModelSummary::sm_seconds_busy)},
      {"fragmentation", [](const RunResult& r) { return ExactNumber(Fragmentation(r.overall)); }},
  };
  for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c].first;
  out << '\n';
  for (const RunResult& r : runs) {
    for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c].second(r);
    out << '\n';
  }
}

std::string MarkdownCell(const std::string& text) {
  std::string cell;
  for (char c : text) {
    if (c == '|') {
      cell += "\\|";
    } else if (c == '\n' || c == '\r') {
      cell += ' ';
    } else {
      cell += c;
    }
  }
  return cell;
}

void PrintMarkdown(std::ostream& out, const std::vector<RunResult>& runs) {
  using Field = std::function<std::string(const RunResult&)>;
  const std::vector<std::pair<const char*, Field>> columns = {
      {"run", [](const RunResult& r) { return MarkdownCell(r.run_name); }},
      {"policy", [](const RunResult& r) { return MarkdownCell(r.policy); }},
      {"seed", [](const RunResult& r) { return std::to_string(r.seed); }},
      {"requests", [](const RunResult& r) { return std::to_string(r.overall.arrived); }},
      {"completed", [](const RunResult& r) { return std::to_string(r.overall.completed); }},
      {"dropped", [](const RunResult& r) { return std::to_string(r.overall.dropped_total); }},
      {"SLO violations", [](const RunResult& r) { return std::to_string(r.overall.violations); }},
      {"violation %", [](const RunResult& r) { return Format("%.2f", 100.0 * r.overall.violation_rate); }},
      {"p50 ms", [](const RunResult& r) { return Format("%.1f", r.overall.latency_p50_ms); }},
      {"p99 ms", [](const RunResult& r) { return Format("%.1f", r.overall.latency_p99_ms); }},
      {"mean batch", [](const RunResult& r) { return Format("%.2f", r.overall.mean_batch_size); }},
      {"cold starts", [](const RunResult& r) { return std::to_string(r.overall.cold_starts); }},
      {"peak instances", [](const RunResult& r) { return std::to_string(r.overall.peak_instances); }},
      {"GPU-s fractional", [](const RunResult& r) { return Format("%.1f", r.overall.fractional_gpu_s); }},
      {"GPU-s whole", [](const RunResult& r) { return Format("%.1f", r.overall.whole_gpu_s); }},
      {"USD fractional", [](const RunResult& r) { return Format("%.3f", r.overall.fractional_usd); }},
      {"USD whole", [](const RunResult& r) { return Format("%.3f", r.overall.whole_usd); }},
      {"fragmentation %", [](const RunResult& r) { return Format("%.1f", 100.0 * Fragmentation(r.overall)); }},
  };
  out << '|';
  for (const auto& [name, field] : columns) out << ' ' << name << " |";
  out << "\n|";
  for (size_t c = 0; c < columns.size(); ++c) out << (c < 2 ? "---|" : "---:|");
  out << '\n';
  for (const RunResult& r : runs) {
    out << '|';
    for (const auto& [name, field] : columns) out << ' ' << field(r) << " |";
    out << '\n';
  }
}

}  // namespace

TableFormat ParseTableFormat(const std::string& text) {
  if (text == "table") return TableFormat::kTable;
  if (text == "csv") return TableFormat::kCsv;
  if (text == "markdown") return TableFormat::kMarkdown;
  if (text == "json") return TableFormat::kJson;
  throw InputError("--format: unknown format '" + text + "' (table, csv, markdown, json)");
}

void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs, TableFormat format,
                     const std::string& scenario_name) {
  switch (format) {
    case TableFormat::kTable:
      PrintTextTable(out, runs);
      return;
    case TableFormat::kCsv:
      PrintCsv(out, runs);
      return;
    case TableFormat::kMarkdown:
      PrintMarkdown(out, runs);
      return;
    case TableFormat::kJson:
      out << SummaryJson(scenario_name, runs).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
      return;
  }
}

void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs) {
  PrintComparison(out, runs, TableFormat::kTable, "");
}

}  // namespace gpuslice
