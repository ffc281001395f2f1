#include "tools/table.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

namespace gpuslice {
namespace {

std::string Format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

std::string Format2(const char* fmt, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

}  // namespace

void PrintComparison(std::ostream& out, const std::vector<RunResult>& runs) {
  using Cell = std::function<std::string(const ModelSummary&, const RunResult&)>;
  std::vector<std::pair<std::string, Cell>> rows = {
      {"requests", [](const ModelSummary& s, const RunResult&) { return std::to_string(s.arrived); }},
      {"completed", [](const ModelSummary& s, const RunResult&) { return std::to_string(s.completed); }},
      {"dropped", [](const ModelSummary& s, const RunResult&) { return std::to_string(s.dropped_total); }},
      {"SLO violations", [](const ModelSummary& s, const RunResult&) {
         return std::to_string(s.violations) + Format(" (%.2f%%)", 100.0 * s.violation_rate);
       }},
      {"latency mean / p50 (ms)", [](const ModelSummary& s, const RunResult&) {
         return Format2("%.1f / %.1f", s.latency_mean_ms, s.latency_p50_ms);
       }},
      {"latency p90 / p99 (ms)", [](const ModelSummary& s, const RunResult&) {
         return Format2("%.1f / %.1f", s.latency_p90_ms, s.latency_p99_ms);
       }},
      {"latency max (ms)", [](const ModelSummary& s, const RunResult&) { return Format("%.1f", s.latency_max_ms); }},
      {"mean batch size", [](const ModelSummary& s, const RunResult&) { return Format("%.2f", s.mean_batch_size); }},
      {"cold starts", [](const ModelSummary& s, const RunResult&) { return std::to_string(s.cold_starts); }},
      {"peak instances", [](const ModelSummary& s, const RunResult&) { return std::to_string(s.peak_instances); }},
      {"GPU-s fractional / whole", [](const ModelSummary& s, const RunResult&) {
         return Format2("%.1f / %.1f", s.fractional_gpu_s, s.whole_gpu_s);
       }},
      {"cost USD fractional / whole", [](const ModelSummary& s, const RunResult&) {
         return Format2("%.3f / %.3f", s.fractional_usd, s.whole_usd);
       }},
      {"fragmentation of held GPUs", [](const ModelSummary& s, const RunResult&) {
         return Format("%.1f%%", s.whole_gpu_s > 0 ? 100.0 * (1.0 - s.fractional_gpu_s / s.whole_gpu_s) : 0.0);
       }},
      {"SM-s held / busy", [](const ModelSummary& s, const RunResult&) {
         return Format2("%.0f / %.0f", s.sm_seconds_held, s.sm_seconds_busy);
       }},
  };
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header = {""};
  for (const RunResult& r : runs) header.push_back(r.run_name + (r.run_name == r.policy ? "" : " (" + r.policy + ")"));
  table.push_back(header);
  for (const auto& [label, cell] : rows) {
    std::vector<std::string> line = {label};
    for (const RunResult& r : runs) line.push_back(cell(r.overall, r));
    table.push_back(line);
  }
  if (!runs.empty() && runs.front().models.size() > 1) {
    for (size_t m = 0; m < runs.front().models.size(); ++m) {
      std::vector<std::string> line = {runs.front().models[m].name + ": viol. % / p99 ms"};
      for (const RunResult& r : runs) {
        const ModelSummary& s = r.models[m];
        line.push_back(Format2("%.2f%% / %.1f", 100.0 * s.violation_rate, s.latency_p99_ms));
      }
      table.push_back(line);
    }
  }
  std::vector<std::string> timing = {"simulated s / wall s"};
  for (const RunResult& r : runs) timing.push_back(Format2("%.0f / %.2f", r.simulated_s, r.wall_s));
  table.push_back(timing);

  std::vector<size_t> width(header.size(), 0);
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) {
      std::string cell = line[i];
      if (i == 0) {
        out << cell << std::string(width[i] - cell.size(), ' ');
      } else {
        out << "  " << std::string(width[i] - cell.size(), ' ') << cell;
      }
    }
    out << '\n';
  }
}

}  // namespace gpuslice
