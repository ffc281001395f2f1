#include "tools/table.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/util/error.h"

namespace gpuslice {
namespace {

// A run whose overall numbers are chosen by hand; `k` makes every run's numbers different.
RunResult MakeRun(const std::string& name, const std::string& policy, int k) {
  RunResult r;
  r.run_name = name;
  r.policy = policy;
  r.seed = 1000 + static_cast<uint64_t>(k);
  r.simulated_s = 3600.0 + k;
  r.wall_s = 1.5;
  ModelSummary& s = r.overall;
  s.name = "all";
  s.arrived = 100000 + static_cast<uint64_t>(k);
  s.completed = 99000;
  s.dropped[0] = 7;
  s.dropped[1] = 8;
  s.dropped[2] = 9;
  s.dropped_total = 24;
  s.in_flight_at_end = 976 + static_cast<uint64_t>(k);
  s.violations = 1234;
  s.violation_rate = 1.0 / 3.0;     // not a short decimal: exercises the exact printing
  s.throughput_rps = 0.1 + 0.2;     // 0.30000000000000004
  s.latency_mean_ms = 12.5 + k;
  s.latency_p50_ms = 1e-300;
  s.latency_p90_ms = 123456789.123456789;
  s.latency_p99_ms = 2.0 / 7.0;
  s.latency_max_ms = 5e300;
  s.queue_wait_mean_ms = 0.125;
  s.queue_wait_p99_ms = 3.0;
  s.cold_starts = 42;
  s.peak_instances = 17;
  s.mean_batch_size = 3.75;
  s.fractional_gpu_s = 1.0;
  s.whole_gpu_s = 4.0;  // fragmentation 1 - 1/4 = 0.75
  s.fractional_usd = 0.1;
  s.whole_usd = 0.7;
  s.sm_seconds_held = 54321.0;
  s.sm_seconds_busy = 12345.0;
  return r;
}

std::string Print(const std::vector<RunResult>& runs, TableFormat format) {
  std::ostringstream out;
  PrintComparison(out, runs, format, "my-scenario");
  return out.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// An RFC 4180 reader, written apart from the program's writer.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& field = rows.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      field += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

TEST(TableFormat, ParsesTheFourNamesAndRejectsOthers) {
  EXPECT_EQ(ParseTableFormat("table"), TableFormat::kTable);
  EXPECT_EQ(ParseTableFormat("csv"), TableFormat::kCsv);
  EXPECT_EQ(ParseTableFormat("markdown"), TableFormat::kMarkdown);
  EXPECT_EQ(ParseTableFormat("json"), TableFormat::kJson);
  try {
    ParseTableFormat("xml");
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--format: unknown format 'xml' (table, csv, markdown, json)");
  }
  EXPECT_THROW(ParseTableFormat("CSV"), InputError);
}

TEST(TableCsv, HeaderIsTheHdf5SummaryColumns) {
  const std::vector<std::vector<std::string>> rows = ParseCsv(Print({MakeRun("a", "p", 0)}, TableFormat::kCsv));
  ASSERT_EQ(rows.size(), 2u);
  const std::vector<std::string> expected = {
      "run", "policy", "seed", "simulated_s", "arrived", "completed", "dropped_queue_timeout",
      "dropped_no_capacity", "dropped_admission", "dropped_total", "in_flight_at_end", "violations",
      "violation_rate", "throughput_rps", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms",
      "latency_p99_ms", "latency_max_ms", "queue_wait_mean_ms", "queue_wait_p99_ms", "cold_starts",
      "peak_instances", "mean_batch_size", "fractional_gpu_s", "whole_gpu_s", "fractional_usd", "whole_usd",
      "sm_seconds_held", "sm_seconds_busy", "fragmentation"};
  EXPECT_EQ(rows[0], expected);
  EXPECT_EQ(rows[1].size(), expected.size());
}

TEST(TableCsv, NumbersReadBackExactlyAndNamesAreQuoted) {
  const std::vector<RunResult> runs = {MakeRun("plain", "kserve", 0), MakeRun("a,b", "has-gpu", 1),
                                       MakeRun("say \"hi\"", "p", 2)};
  const std::string text = Print(runs, TableFormat::kCsv);
  // RFC 4180: a field with a comma or a quote is quoted, its quotes doubled.
  EXPECT_NE(text.find("\n\"a,b\",has-gpu,1001,"), std::string::npos) << text;
  EXPECT_NE(text.find("\n\"say \"\"hi\"\"\",p,1002,"), std::string::npos) << text;
  EXPECT_NE(text.find("\nplain,kserve,1000,"), std::string::npos) << text;

  const std::vector<std::vector<std::string>> rows = ParseCsv(text);
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::string>& header = rows[0];
  auto field = [&](size_t row, const std::string& column) -> std::string {
    for (size_t c = 0; c < header.size(); ++c) {
      if (header[c] == column) return rows[row].at(c);
    }
    ADD_FAILURE() << "no column " << column;
    return "";
  };
  auto real = [&](size_t row, const std::string& column) { return std::strtod(field(row, column).c_str(), nullptr); };
  for (size_t i = 0; i < runs.size(); ++i) {
    const size_t row = i + 1;
    const ModelSummary& s = runs[i].overall;
    EXPECT_EQ(field(row, "run"), runs[i].run_name);
    EXPECT_EQ(field(row, "policy"), runs[i].policy);
    EXPECT_EQ(field(row, "seed"), std::to_string(1000 + i));
    EXPECT_EQ(field(row, "arrived"), std::to_string(100000 + i));
    EXPECT_EQ(field(row, "dropped_no_capacity"), "8");
    EXPECT_EQ(field(row, "in_flight_at_end"), std::to_string(976 + i));
    EXPECT_EQ(field(row, "peak_instances"), "17");
    // Exact equality, not a tolerance: the doubles must round-trip bit for bit.
    EXPECT_EQ(real(row, "simulated_s"), 3600.0 + static_cast<double>(i));
    EXPECT_EQ(real(row, "violation_rate"), s.violation_rate);
    EXPECT_EQ(real(row, "throughput_rps"), 0.1 + 0.2);
    EXPECT_EQ(real(row, "latency_mean_ms"), 12.5 + static_cast<double>(i));
    EXPECT_EQ(real(row, "latency_p50_ms"), 1e-300);
    EXPECT_EQ(real(row, "latency_p90_ms"), 123456789.123456789);
    EXPECT_EQ(real(row, "latency_p99_ms"), 2.0 / 7.0);
    EXPECT_EQ(real(row, "latency_max_ms"), 5e300);
    EXPECT_EQ(real(row, "fractional_usd"), 0.1);
    EXPECT_EQ(real(row, "fragmentation"), 0.75);
  }
}

TEST(TableMarkdown, OneRowPerRunAndPipesEscaped) {
  const std::vector<RunResult> runs = {MakeRun("a|b", "p", 0), MakeRun("c", "q|r", 1), MakeRun("d", "d", 2)};
  const std::vector<std::string> lines = Lines(Print(runs, TableFormat::kMarkdown));
  ASSERT_EQ(lines.size(), 2u + runs.size());  // header, separator, one row per run
  EXPECT_EQ(lines[1].rfind("|---|---|---:|", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("| a\\|b | p | 1000 |", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("| c | q\\|r | 1001 |", 0), 0u) << lines[3];
  // Every line has as many unescaped pipes as the header.
  auto cells = [](const std::string& line) {
    return Count(line, "|") - Count(line, "\\|");
  };
  for (const std::string& line : lines) {
    EXPECT_EQ(cells(line), cells(lines[0])) << line;
    EXPECT_EQ(line.front(), '|');
    EXPECT_EQ(line.back(), '|');
  }
  // 1234 violations; violation rate 1/3 -> "33.33" %; fragmentation 0.75 -> "75.0" %.
  EXPECT_NE(lines[4].find("| 1234 | 33.33 |"), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("| 75.0 |"), std::string::npos) << lines[4];
}

TEST(TableJson, IsTheSummaryJson) {
  const std::string text = Print({MakeRun("x", "p", 0), MakeRun("y", "p", 1)}, TableFormat::kJson);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["scenario"], "my-scenario");
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][1]["name"], "y");
  EXPECT_EQ(j["runs"][1]["overall"]["arrived"], 100001);
  EXPECT_NE(text.find("\n  \"runs\""), std::string::npos);  // pretty-printed
}

// Runs with names longer than a column; the header of run k is "<name> (has-gpu)".
std::vector<RunResult> LongNamedRuns(int n) {
  std::vector<RunResult> runs;
  for (int k = 1; k <= n; ++k) {
    char name[96];
    std::snprintf(name, sizeof name, "has-gpu-ablation-without-prewarming-variant-%02d-x", k);
    runs.push_back(MakeRun(name, "has-gpu", k));
    runs.back().overall.latency_max_ms = 2500.0;  // the text table prints every digit of 5e300
  }
  return runs;
}

void ExpectFitsAndNamesEveryRun(const std::vector<RunResult>& runs) {
  const std::string text = Print(runs, TableFormat::kTable);
  for (const std::string& line : Lines(text)) EXPECT_LE(line.size(), 100u) << line;
  for (const RunResult& r : runs) {
    EXPECT_EQ(Count(text, r.run_name + " (has-gpu)"), 1u) << r.run_name << " in\n" << text;
  }
  EXPECT_NE(text.find("..."), std::string::npos) << "names longer than a column are shortened";
}

TEST(TableText, OneLongNamedRunFits) { ExpectFitsAndNamesEveryRun(LongNamedRuns(1)); }
TEST(TableText, ThreeLongNamedRunsFit) { ExpectFitsAndNamesEveryRun(LongNamedRuns(3)); }

TEST(TableText, TwelveLongNamedRunsFitInBlocks) {
  const std::vector<RunResult> runs = LongNamedRuns(12);
  ExpectFitsAndNamesEveryRun(runs);
  // 12 columns of at least 15 characters cannot share one 100-column line: several blocks,
  // each with the metric names.
  const std::string text = Print(runs, TableFormat::kTable);
  EXPECT_GT(Count(text, "\nrequests "), 1u);
  // A shortened header is the run's number and its name with the middle cut out, 20 wide:
  // "[1] " leaves 16 = 6 + "..." + 7; "[10] " leaves 15 = 6 + "..." + 6.
  EXPECT_EQ(Count(text, "  [1] has-gp...nt-01-x"), 1u) << text;
  EXPECT_EQ(Count(text, "  [10] has-gp...t-10-x"), 1u) << text;
  // The legend: one line per shortened run, its number and full header.
  EXPECT_EQ(Count(text, "\n[12] has-gpu-ablation-without-prewarming-variant-12-x (has-gpu)\n"), 1u);
}

TEST(TableText, ManyModelsAndLongModelNamesFit) {
  std::vector<RunResult> runs = LongNamedRuns(5);
  for (RunResult& r : runs) {
    r.models = {r.overall, r.overall};
    r.models[0].name = "m";
    r.models[1].name = std::string(80, 'n');
  }
  for (const std::string& line : Lines(Print(runs, TableFormat::kTable))) EXPECT_LE(line.size(), 100u) << line;
}

TEST(TableText, LongNumbersAreNotCut) {
  const std::string text = Print({MakeRun("a", "a", 0)}, TableFormat::kTable);
  // latency max 5e300 ms in %.1f: 301 digits (the nearest double's) and ".0".
  const size_t at = text.find("\nlatency max (ms)");
  ASSERT_NE(at, std::string::npos);
  const std::string line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  EXPECT_EQ(line.substr(line.size() - 2), ".0");
  EXPECT_EQ(line.substr(line.rfind(' ') + 1).size(), 301u + 2u);
}

TEST(TableText, ShortNamesKeepOneBlockWithoutLegend) {
  std::vector<RunResult> runs = {MakeRun("kserve", "kserve", 0), MakeRun("a", "has-gpu", 1),
                                 MakeRun("b", "fast-gshare", 2)};
  for (RunResult& r : runs) r.overall.latency_max_ms = 2500.0;
  const std::vector<std::string> lines = Lines(Print(runs, TableFormat::kTable));
  // A header line, the 14 metrics and "simulated s / wall s"; nothing else.
  ASSERT_EQ(lines.size(), 16u);
  EXPECT_NE(lines[0].find("kserve"), std::string::npos);
  EXPECT_EQ(lines[0].find("kserve (kserve)"), std::string::npos);  // the policy only when it differs
  EXPECT_NE(lines[0].find("a (has-gpu)"), std::string::npos);
  EXPECT_NE(lines[0].find("b (fast-gshare)"), std::string::npos);
  EXPECT_EQ(lines[2].rfind("completed", 0), 0u);
  // Right-aligned values: mean 12.5 + k ms, p50 1e-300 -> "0.0".
  EXPECT_NE(lines[5].find("  12.5 / 0.0  "), std::string::npos) << lines[5];
  const std::string last_column = "  14.5 / 0.0";
  ASSERT_GE(lines[5].size(), last_column.size());
  EXPECT_EQ(lines[5].substr(lines[5].size() - last_column.size()), last_column) << lines[5];
}

}  // namespace
}  // namespace gpuslice
