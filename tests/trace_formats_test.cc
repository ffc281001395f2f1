// Reading traces and profiles as published (issue 16): byte-order marks, compressed files,
// long lines, folders, calendar times before 1970 and past SimTime's range, names that are not
// UTF-8, rows cut short, minutes too large to expand, and times going back found at loading.
// Every expected value comes from outside the program: a hand count, a Python one-liner
// recorded beside it, or the plain file the compressed copy was made from.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "gpu/profile.h"
#include "sim/util/csv.h"
#include "sim/util/decompress.h"
#include "sim/util/error.h"
#include "sim/util/interrupt.h"
#include "tests/test_util.h"
#include "traces/azure_functions_2019.h"
#include "traces/azure_functions_2021.h"
#include "traces/csv_trace.h"
#include "traces/datetime.h"
#include "traces/llm_traces.h"
#include "traces/workload.h"

namespace gpuslice {
namespace {

std::string Fixture(const std::string& rel) { return testing::SourceDir() + "/tests/fixtures/" + rel; }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The InputError's message of `body`, or "" if it throws none.
template <typename Body>
std::string ErrorOf(Body body) {
  try {
    body();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

std::vector<std::string> Lines(const std::string& path) {
  CsvReader r(path);
  std::vector<std::string> out;
  while (r.NextRaw()) out.emplace_back(r.line());
  return out;
}

struct Rec {
  SimTime time;
  std::string function;
  int32_t in, out;
  bool operator==(const Rec&) const = default;
};

std::vector<Rec> Records(RawTrace& t) {
  std::vector<Rec> out;
  RawRecord r;
  while (t.Next(&r)) out.push_back({r.time, std::string(r.function), r.input_tokens, r.output_tokens});
  return out;
}

// ---- CsvReader ---------------------------------------------------------------------------

TEST(TraceFormatsCsv, ByteOrderMarkIsDroppedAndCrlfKept) {
  const std::string path = testing::WriteTempFile("bom.csv", "\xEF\xBB\xBFtime_s,function\r\n0.5,a\r\n1.5,b\r\n");
  CsvReader r(path);
  ASSERT_TRUE(r.Next());
  ASSERT_EQ(r.fields().size(), 2u);
  EXPECT_EQ(r.fields()[0], "time_s");
  CsvTrace t(path, false);
  const std::vector<Rec> want = {{500'000'000, "a", -1, -1}, {1'500'000'000, "b", -1, -1}};
  EXPECT_EQ(Records(t), want);
  // A BOM elsewhere than the start is data.
  const std::string later = testing::WriteTempFile("later.csv", "a\n\xEF\xBB\xBF" "b\n");
  EXPECT_EQ(Lines(later), (std::vector<std::string>{"a", "\xEF\xBB\xBF" "b"}));
}

TEST(TraceFormatsCsv, EveryReaderTakesExcelsByteOrderMark) {
  const std::string bom = "\xEF\xBB\xBF";
  // Azure LLM: 2 rows, 1 s apart.
  const std::string llm = testing::WriteTempFile(
      "llm.csv", bom + "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.0000000,10,2\r\n"
                       "2023-11-16 18:15:47.0000000,11,3\r\n");
  AzureLlmTrace a(llm, "f", false);
  EXPECT_EQ(Records(a), (std::vector<Rec>{{0, "f", 10, 2}, {kNsPerSecond, "f", 11, 3}}));
  // Alibaba: the time column first, as Excel saves it.
  const std::string ali = testing::WriteTempFile(
      "ali.csv", bom + "gmt_create,checkpoint_model_version_id\r\n2024-11-14 00:00:00,m1\r\n2024-11-14 00:00:02,m2\r\n");
  AlibabaGenAiTrace b(ali, "checkpoint_model_version_id", false);
  EXPECT_EQ(Records(b), (std::vector<Rec>{{0, "m1", -1, -1}, {2 * kNsPerSecond, "m2", -1, -1}}));
  // Azure Functions 2019: HashOwner first; 3 invocations in minute 1, evenly spaced.
  const std::string f19 = testing::WriteTempFile("f19.csv", bom + "HashOwner,HashApp,HashFunction,Trigger,1\r\no,a,f,http,3\r\n");
  AzureFunctions2019Trace c(f19, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false);
  EXPECT_EQ(Records(c).size(), 3u);
  // Azure Functions 2021: app first.
  const std::string f21 = testing::WriteTempFile("f21.csv", bom + "app,func,end_timestamp,duration\r\nx,f,2.0,1.0\r\n");
  AzureFunctions2021Trace d(f21, false);
  EXPECT_EQ(Records(d), (std::vector<Rec>{{kNsPerSecond, "x/f", -1, -1}}));  // 2.0 - 1.0 s
  // The profile reader: the same points as the plain file.
  const std::string plain = testing::SourceDir() + "/gpu/profiles/v100/resnet50.csv";
  std::string text = ReadBytes(plain);
  const std::string with_bom = testing::WriteTempFile("resnet50.csv", bom + text);
  const auto want = LatencyProfile::Load(plain).Points();
  const auto got = LatencyProfile::Load(with_bom).Points();
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(got.size(), 800u);  // wc -l gpu/profiles/v100/resnet50.csv: 801 lines, one a header
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].batch, want[i].batch);
    EXPECT_EQ(got[i].latency_ms, want[i].latency_ms);
  }
}

TEST(TraceFormatsCsv, LineLongerThan16MiBIsAnErrorNamingTheLine) {
  const size_t mib = size_t{1} << 20;
  // Line 2 is 17 MiB with no line break at all (the buffer must not grow without bound).
  const std::string path = testing::WriteTempFile("long.csv", "time_s,function\n" + std::string(17 * mib, 'x'));
  CsvReader r(path);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(ErrorOf([&] { r.Next(); }), path + ":2: line longer than 16 MiB");
  // Line 3 of 16 MiB + 1 byte, then a short line: still refused, at 3.
  const std::string path2 =
      testing::WriteTempFile("long2.csv", "a\nb\n" + std::string(16 * mib + 1, 'y') + "\nc\n");
  CsvReader r2(path2);
  EXPECT_EQ(ErrorOf([&] { while (r2.Next()) {} }), path2 + ":3: line longer than 16 MiB");
  // Exactly 16 MiB is read.
  const std::string path3 = testing::WriteTempFile("long3.csv", std::string(16 * mib, 'z') + "\nend\n");
  CsvReader r3(path3);
  ASSERT_TRUE(r3.Next());
  EXPECT_EQ(r3.line().size(), 16 * mib);
  ASSERT_TRUE(r3.Next());
  EXPECT_EQ(r3.line(), "end");
}

TEST(TraceFormatsCsv, FolderIsNotAFile) {
  const std::string dir = testing::TempDir();
  EXPECT_EQ(ErrorOf([&] { CsvReader r(dir); }), dir + ": is a folder, not a file");
  EXPECT_HAS(ErrorOf([&] { LatencyProfile::Load(dir); }), dir + ": is a folder, not a file");
  EXPECT_HAS(ErrorOf([&] { CsvReader r(dir + "/nosuch.csv"); }), dir + "/nosuch.csv: cannot open");
}

TEST(TraceFormatsCsv, InterruptStopsALongRead) {
  // 3 MiB of lines: more than one 1 MiB block.
  std::string text;
  for (int i = 0; i < 300'000; ++i) text += "0123456789\n";
  const std::string path = testing::WriteTempFile("big.csv", text);
  CsvReader r(path);
  ASSERT_TRUE(r.Next());
  struct Reset {
    ~Reset() { InterruptFlag().store(false); }
  } reset;
  InterruptFlag().store(true);
  long lines = 1;
  EXPECT_THROW(
      {
        while (r.Next()) ++lines;
      },
      Interrupted);
  // Stopped at the end of the first block: 1 MiB / 11 bytes a line.
  EXPECT_LE(lines, (1 << 20) / 11 + 1);
}

TEST(TraceFormatsCsv, ValidUtf8) {
  for (const char* ok : {"", "plain", "h\xC3\xA9llo", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
  for (const char* bad : {"\xFF", "a\xFE" "b", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xE6\x97", "\x80", "\xF5\x80\x80\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

// ---- Compressed files --------------------------------------------------------------------

TEST(TraceFormatsCompressed, EachCopyReadsToTheSameLinesAsItsPlainFile) {
  const std::string plain19 = Fixture("traces/azure-functions-2019-sample/invocations.csv");
  const auto want19 = Lines(plain19);
  ASSERT_EQ(want19.size(), 11u);  // wc -l: a header and 10 functions
  for (const char* ext : {"gz", "xz", "zst", "bz2"}) {
    EXPECT_EQ(Lines(Fixture("traces/compressed/invocations.csv.") + ext), want19) << ext;
  }
  EXPECT_EQ(Lines(Fixture("traces/compressed/Azure2021_200.csv.gz")),
            Lines(Fixture("traces/azure-functions-2021-sample/Azure2021_200.csv")));
  EXPECT_EQ(Lines(Fixture("traces/compressed/AzureLLMInferenceTrace_code.csv.xz")),
            Lines(Fixture("traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv")));
  EXPECT_EQ(Lines(Fixture("traces/compressed/conversation_trace.jsonl.zst")),
            Lines(Fixture("traces/mooncake-fast25/conversation_trace.jsonl")));
}

TEST(TraceFormatsCompressed, EachFormatReadsTheSameRecordsCompressed) {
  const std::string dir = Fixture("traces/");
  // Azure 2019: the same functions, triggers and counts (the records follow from those; the
  // file expands to 13 M of them, too many to compare four times here).
  auto counts = [](AzureFunctions2019Trace& t) {
    std::unordered_map<std::string, long long> c;
    std::vector<std::string> order;
    t.CountFunctions(&c, &order);
    std::vector<std::pair<std::string, long long>> out;
    for (const std::string& name : order) out.push_back({name, c[name]});
    for (const FunctionMetadata& m : t.functions()) out.push_back({m.trigger, 0});
    return out;
  };
  AzureFunctions2019Trace plain(dir + "azure-functions-2019-sample/invocations.csv", "", "", MinuteSpacing::kEven,
                                RngStream(1, "x"), false);
  const auto want = counts(plain);
  ASSERT_EQ(want.size(), 20u);
  long long total = 0;
  for (const auto& [name, n] : want) total += n;
  // python3 -c "import csv; r=list(csv.reader(open('invocations.csv'))); print(sum(int(x) for row in r[1:] for x in row[4:]))"
  EXPECT_EQ(total, 13'037'064);
  for (const char* ext : {"gz", "xz", "zst", "bz2"}) {
    AzureFunctions2019Trace packed(dir + "compressed/invocations.csv." + ext, "", "", MinuteSpacing::kEven,
                                   RngStream(1, "x"), false);
    EXPECT_EQ(counts(packed), want) << ext;
  }
  AzureFunctions2021Trace p21(dir + "azure-functions-2021-sample/Azure2021_200.csv", false);
  AzureFunctions2021Trace c21(dir + "compressed/Azure2021_200.csv.gz", false);
  EXPECT_EQ(Records(p21), Records(c21));
  AzureLlmTrace pl(dir + "azure-llm-2023/AzureLLMInferenceTrace_code.csv", "code", false);
  AzureLlmTrace cl(dir + "compressed/AzureLLMInferenceTrace_code.csv.xz", "code", false);
  const auto llm = Records(pl);
  EXPECT_EQ(llm.size(), 8819u);  // wc -l AzureLLMInferenceTrace_code.csv: 8820 lines, one a header
  EXPECT_EQ(llm, Records(cl));
  MooncakeTrace pm(dir + "mooncake-fast25/conversation_trace.jsonl", "m", false);
  MooncakeTrace cm(dir + "compressed/conversation_trace.jsonl.zst", "m", false);
  const auto moon = Records(pm);
  EXPECT_EQ(moon.size(), 12031u);  // wc -l conversation_trace.jsonl
  EXPECT_EQ(moon, Records(cm));
}

TEST(TraceFormatsCompressed, DetectedByContentNotName) {
  // A gzip file named .csv reads as gzip; a plain file named .gz reads as plain text.
  const std::string gz = ReadBytes(Fixture("traces/compressed/invocations.csv.gz"));
  const std::string named_csv = testing::WriteTempFile("invocations.csv", gz);
  EXPECT_EQ(Lines(named_csv), Lines(Fixture("traces/azure-functions-2019-sample/invocations.csv")));
  const std::string named_gz = testing::WriteTempFile("plain.csv.gz", "time_s,function\n1,a\n");
  EXPECT_EQ(Lines(named_gz), (std::vector<std::string>{"time_s,function", "1,a"}));
  EXPECT_EQ(DetectCompression("\x1f\x8b\x08\x00"), Compression::kGzip);
  EXPECT_EQ(DetectCompression(std::string_view("\xfd" "7zXZ\0", 6)), Compression::kXz);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd"), Compression::kZstd);
  EXPECT_EQ(DetectCompression("BZh91AY&SY"), Compression::kBzip2);
  EXPECT_EQ(DetectCompression("BZh9,time_s,function"), Compression::kNone);  // text that begins like bzip2
}

TEST(TraceFormatsCompressed, TruncatedOrCorruptDataIsAnInputErrorNamingTheFile) {
  const std::pair<const char*, const char*> cases[] = {
      {"bad/truncated.csv.gz", "gzip"}, {"bad/truncated.csv.xz", "xz"},   {"bad/truncated.csv.zst", "zstd"},
      {"bad/truncated.csv.bz2", "bzip2"}, {"bad/corrupt.csv.gz", "gzip"}, {"bad/corrupt.csv.zst", "zstd"},
  };
  for (const auto& [file, kind] : cases) {
    const std::string path = Fixture(file);
    const std::string e = ErrorOf([&] { Lines(path); });
    EXPECT_EQ(e.rfind(path + ": " + kind + "-compressed data is corrupt or truncated", 0), 0u) << e;
    // Through a reader, the same.
    const std::string e2 = ErrorOf([&] {
      AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
    });
    EXPECT_EQ(e2.rfind(path + ": " + kind + "-compressed", 0), 0u) << e2;
  }
  // Every cut of a small zstd file (Boost's zstd filter alone does not see truncation).
  const std::string whole = ReadBytes(Fixture("traces/compressed/invocations.csv.zst"));
  for (size_t n : {size_t{4}, size_t{5}, size_t{13}, size_t{100}, whole.size() / 2, whole.size() - 4, whole.size() - 1}) {
    const std::string cut = testing::WriteTempFile("cut.zst", whole.substr(0, n));
    EXPECT_HAS(ErrorOf([&] { Lines(cut); }), cut + ": zstd-compressed data is corrupt or truncated") ;
  }
}

TEST(TraceFormatsCompressed, ABinaryWithoutTheDecompressorSaysSo) {
  struct Restore {
    ~Restore() { SetDecompressor(&OpenDecompressor); }
  } restore;
  SetDecompressor(nullptr);
  const std::string path = Fixture("traces/compressed/invocations.csv.xz");
  EXPECT_EQ(ErrorOf([&] { CsvReader r(path); }),
            path + ": xz-compressed; this binary reads plain text only: decompress it first");
}

TEST(TraceFormatsCsv, EveryCsvReaderRefusesARowShorterThanItsHeader) {
  // Cut mid-row, the last row still parses as a time and a name ("mob"): its missing tokens
  // make it a bad row, not a row without tokens.
  const std::string csv = testing::WriteTempFile(
      "t.csv", "time_s,function,input_tokens,output_tokens\n0.1,resnet50,10,5\n2.450,mob");
  CsvTrace c(csv, false);
  EXPECT_EQ(ErrorOf([&] { Records(c); }), csv + ":3: expected at least 4 fields, got 2");
  const std::string llm = testing::WriteTempFile(
      "llm.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0000000,10,2\n2023-11-16 18:15:47.0000000,1");
  AzureLlmTrace l(llm, "f", false);
  EXPECT_EQ(ErrorOf([&] { Records(l); }), llm + ":3: expected 3 fields, got 2");
  const std::string ali = testing::WriteTempFile(
      "ali.csv", "gmt_create,checkpoint_model_version_id,extra\n2024-11-14 00:00:00,m1,x\n2024-11-14 00:00:02,m2\n");
  AlibabaGenAiTrace a(ali, "checkpoint_model_version_id", false);
  EXPECT_EQ(ErrorOf([&] { Records(a); }), ali + ":3: expected 3 fields, got 2");
  const std::string f21 = testing::WriteTempFile("f21.csv", "app,func,end_timestamp,duration,extra\nx,f,2.0,1.0\n");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2021Trace t(f21, false); }), f21 + ":2: expected 5 fields, got 4");
}

// ---- Azure Functions 2019 ----------------------------------------------------------------

TEST(TraceFormatsAzure2019, NegativeDurationsAndMemoryAreBadRows) {
  const std::string inv = testing::WriteTempFile("inv.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,1\n");
  const std::string dur = testing::WriteTempFile("dur.csv", "HashFunction,Average\nf,-5\n");
  const std::string mem = testing::WriteTempFile("mem.csv", "HashApp,AverageAllocatedMb\na,-1\n");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2019Trace t(inv, dur, "", MinuteSpacing::kEven, RngStream(1, "x"), false); }),
            dur + ":2: Average must be >= 0 (got -5)");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2019Trace t(inv, "", mem, MinuteSpacing::kEven, RngStream(1, "x"), false); }),
            mem + ":2: AverageAllocatedMb must be >= 0 (got -1)");
}

long long CountAll(RawTrace& t) {
  std::unordered_map<std::string, long long> counts;
  std::vector<std::string> order;
  t.CountFunctions(&counts, &order);
  long long n = 0;
  for (const auto& [name, c] : counts) n += c;
  return n;
}

TEST(TraceFormatsAzure2019, FileCutMidRowCountsOnlyItsCompleteRows) {
  const std::string text = ReadBytes(Fixture("traces/azure-functions-2019-sample/invocations.csv"));
  // The header, 5 complete rows, and the 6th row cut in the middle, with no final newline.
  size_t end = 0;
  for (int line = 0; line < 6; ++line) end = text.find('\n', end) + 1;
  const size_t row6 = text.find('\n', end) - end;
  const std::string path = testing::WriteTempFile("cut.csv", text.substr(0, end + row6 / 2));
  EXPECT_HAS(ErrorOf([&] { AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false); }),
             path + ":7: expected 1444 fields, got ");
  AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  EXPECT_EQ(t.skipped_rows(), 1);
  EXPECT_EQ(t.functions().size(), 5u);
  // python3 -c "import csv; r=list(csv.reader(open('invocations.csv'))); print(sum(int(x) for row in r[1:6] for x in row[4:]))"
  // prints 2334108.
  EXPECT_EQ(CountAll(t), 2'334'108);
  AzureFunctions2019Trace replay(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  EXPECT_EQ(static_cast<long long>(Records(replay).size()), 2'334'108);
}

TEST(TraceFormatsAzure2019, ShortRowInTheMiddleIsABadRowNotThePreviousRow) {
  const std::string text = ReadBytes(Fixture("traces/azure-functions-2019-sample/invocations.csv"));
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 11u);
  // Line 5 keeps its first 20 fields only.
  std::string& five = lines[4];
  size_t pos = 0;
  for (int k = 0; k < 20; ++k) pos = five.find(',', pos) + 1;
  five.resize(pos - 1);
  std::string cut;
  for (const auto& l : lines) cut += l + "\n";
  const std::string path = testing::WriteTempFile("short.csv", cut);
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false); }),
            path + ":5: expected 1444 fields, got 20");
  AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  // All rows but line 5's: python3 -c "import csv; r=list(csv.reader(open('invocations.csv')));
  //   print(sum(int(x) for i,row in enumerate(r) if i not in (0,4) for x in row[4:]))"  prints 12461201.
  EXPECT_EQ(CountAll(t), 12'461'201);
}

TEST(TraceFormatsAzure2019, AMinuteLargerThanTheLimitIsRefusedBeforeExpanding) {
  // 30,000,000 + 30,000,000 in minute 2 is more than 50,000,000: line 3 is refused.
  const std::string path = testing::WriteTempFile(
      "big.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,30000000\no,a,g,http,1,30000000\n");
  const std::string e =
      ErrorOf([&] { AzureFunctions2019Trace t(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false); });
  EXPECT_HAS(e, path + ":3: minute 2: 30000000 invocations bring the minute's total over all functions to 60000000");
  EXPECT_HAS(e, "more than 50000000");
  AzureFunctions2019Trace kept(path, "", "", MinuteSpacing::kEven, RngStream(1, "x"), true);
  EXPECT_EQ(kept.skipped_rows(), 1);
  EXPECT_EQ(CountAll(kept), 30'000'001);
  // One function's 2^31 - 1 in a minute.
  const std::string one = testing::WriteTempFile("one.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,2147483647\n");
  EXPECT_HAS(ErrorOf([&] { AzureFunctions2019Trace t(one, "", "", MinuteSpacing::kUniform, RngStream(1, "x"), false); }),
             one + ":2: minute 1: 2147483647 invocations");
  // 2^31 is not a count at all.
  const std::string over = testing::WriteTempFile("over.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,2147483648\n");
  EXPECT_HAS(ErrorOf([&] { AzureFunctions2019Trace t(over, "", "", MinuteSpacing::kUniform, RngStream(1, "x"), false); }),
             over + ":2: minute 1: '2147483648' is not a count (an integer in [0, 2147483647])");
}

// ---- Calendar times ----------------------------------------------------------------------

TEST(TraceFormatsTime, DatesBefore1970AndFarApart) {
  CalendarTime c;
  ASSERT_TRUE(ParseCalendarTime("1969-12-31 23:59:59.5", &c));
  EXPECT_EQ(c.seconds, -1);
  EXPECT_EQ(c.nanos, 500'000'000);
  SimTime t;
  ASSERT_TRUE(ParseDateTime("1969-12-31 23:59:59.5", &t));
  EXPECT_EQ(t, -500'000'000);
  // python3 -c "import datetime as d; print(int((d.datetime(2300,1,1)-d.datetime(1970,1,1)).total_seconds()))"
  ASSERT_TRUE(ParseCalendarTime("2300-01-01 00:00:00", &c));
  EXPECT_EQ(c.seconds, 10'413'792'000);
  EXPECT_FALSE(ParseDateTime("2300-01-01 00:00:00", &t));  // past 2262 in ns since 1970
  EXPECT_FALSE(ParseCalendarTime("2023-02-29 00:00:00", &c));
  EXPECT_TRUE(ParseCalendarTime("2024-02-29 00:00:00", &c));
  EXPECT_FALSE(ParseCalendarTime("2100-02-29 00:00:00", &c));
  EXPECT_TRUE(ParseCalendarTime("2000-02-29 00:00:00", &c));
  EXPECT_FALSE(ParseCalendarTime("2023-04-31 00:00:00", &c));
}

TEST(TraceFormatsTime, AzureLlmBefore1970) {
  const std::string path = testing::WriteTempFile(
      "llm.csv",
      "TIMESTAMP,ContextTokens,GeneratedTokens\n1969-12-31 23:59:58.5000000,1,1\n1969-12-31 23:59:59.0000000,2,2\n"
      "1970-01-01 00:00:01.2500000,3,3\n");
  AzureLlmTrace t(path, "f", false);
  // By hand: 0.5 s and 2.75 s after 23:59:58.5.
  EXPECT_EQ(Records(t), (std::vector<Rec>{{0, "f", 1, 1}, {500'000'000, "f", 2, 2}, {2'750'000'000, "f", 3, 3}}));
}

TEST(TraceFormatsTime, AlibabaIn1960AndTwoCenturiesApart) {
  const std::string path = testing::WriteTempFile(
      "ali.csv", "gmt_create,checkpoint_model_version_id\n1960-01-01 00:00:00,a\n1960-01-01 00:00:03,b\n");
  AlibabaGenAiTrace t(path, "checkpoint_model_version_id", false);
  EXPECT_EQ(Records(t), (std::vector<Rec>{{0, "a", -1, -1}, {3 * kNsPerSecond, "b", -1, -1}}));
  // 200 years fit: python3 -c "import datetime as d; print((d.date(2100,1,1)-d.date(1900,1,1)).days)" prints 73049.
  const std::string far = testing::WriteTempFile(
      "far.csv", "gmt_create,checkpoint_model_version_id\n1900-01-01 00:00:00,a\n2100-01-01 00:00:00,b\n");
  AlibabaGenAiTrace f(far, "checkpoint_model_version_id", false);
  const auto r = Records(f);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].time, 73049LL * 86400 * kNsPerSecond);
}

TEST(TraceFormatsTime, MoreThan292YearsFromTheFirstRowIsRefusedNamingTheLimit) {
  const std::string path = testing::WriteTempFile(
      "llm.csv",
      "TIMESTAMP,ContextTokens,GeneratedTokens\n1700-01-01 00:00:00,1,1\n1700-01-02 00:00:00,1,1\n"
      "2023-01-01 00:00:00,1,1\n");
  AzureLlmTrace t(path, "f", false);
  const std::string e = ErrorOf([&] { Records(t); });
  EXPECT_HAS(e, path + ":4: TIMESTAMP '2023-01-01 00:00:00' is ");
  EXPECT_HAS(e, "simulated time is int64 nanoseconds, about 292 years");
  AzureLlmTrace skip(path, "f", true);
  EXPECT_EQ(Records(skip).size(), 2u);
  EXPECT_EQ(skip.skipped_rows(), 1);
  const std::string ali = testing::WriteTempFile(
      "ali.csv", "gmt_create,checkpoint_model_version_id\n9999-12-31 23:59:59,a\n0000-01-01 00:00:00,b\n");
  AlibabaGenAiTrace a(ali, "checkpoint_model_version_id", false);
  EXPECT_HAS(ErrorOf([&] { Records(a); }), ali + ":3: gmt_create '0000-01-01 00:00:00' is ");
}

TEST(TraceFormatsTime, HugeTimesAreRefusedNeverWrapped) {
  // No reader may turn these into a wrapped time ("-9223372036 s").
  const std::string csv = testing::WriteTempFile("t.csv", "time_s,function\n1,a\n1e300,a\n9300000000,a\n");
  CsvTrace c(csv, false);
  RawRecord r;
  ASSERT_TRUE(c.Next(&r));
  const std::string e = ErrorOf([&] { c.Next(&r); });
  EXPECT_EQ(e, csv + ":3: time_s 1e300 is beyond the limit of 9223372035 s (simulated time is int64 nanoseconds, "
                     "about 292 years)");
  CsvTrace skip(csv, true);
  EXPECT_EQ(Records(skip).size(), 1u);
  EXPECT_EQ(skip.skipped_rows(), 2);
  const std::string moon = testing::WriteTempFile("m.jsonl", "{\"timestamp\": 1e300}\n");
  MooncakeTrace m(moon, "m", false);
  EXPECT_HAS(ErrorOf([&] { m.Next(&r); }), moon + ":1: \"timestamp\" 1e+300 ms is beyond the limit");
  const std::string a21 = testing::WriteTempFile("a.csv", "app,func,end_timestamp,duration\nx,f,1e300,1\n");
  EXPECT_HAS(ErrorOf([&] { AzureFunctions2021Trace t(a21, false); }), a21 + ":2: end_timestamp 1e300 s");
  // Two arrivals 9e9 s either side of 0 would span 1.8e10 s once shifted to start at 0.
  const std::string span = testing::WriteTempFile("s.csv", "app,func,end_timestamp,duration\nx,f,9e9,0\nx,f,0,9e9\n");
  EXPECT_HAS(ErrorOf([&] { AzureFunctions2021Trace t(span, false); }), span + ":3: arrival -9000000000 s is too far");
}

// ---- Time going back, found at loading ---------------------------------------------------

std::vector<WorkloadSource> ParseSources(const nlohmann::ordered_json& sources) {
  return ParseWorkload("s.json", sources, "/workload", testing::TempDir());
}

TEST(TraceFormatsOrder, TimeGoingBackIsReportedWhenTheTraceIsLoaded) {
  const std::string csv = testing::WriteTempFile("t.csv", "time_s,function\n1,a\n2.25,b\n0.5,a\n3,a\n");
  const std::string e = ErrorOf([&] { ParseSources({{{"type", "csv"}, {"file", csv}}}); });
  EXPECT_EQ(e, csv + ":4: time goes back (0.5 s after 2.25 s); sort the trace by time first");
  // Skipped at loading as in the replay: the counts leave the row out (a: 2, b: 1).
  auto s = ParseSources({{{"type", "csv"}, {"file", csv}, {"skip_bad_rows", true}}});
  EXPECT_EQ(s[0].functions, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s[0].function_counts, (std::vector<double>{2, 1}));
  const std::string llm = testing::WriteTempFile(
      "llm.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.5,1,1\n2023-11-16 18:15:50,1,1\n"
                 "2023-11-16 18:15:45,1,1\n");
  EXPECT_EQ(ErrorOf([&] { ParseSources({{{"type", "azure-llm"}, {"file", llm}, {"function", "f"}}}); }),
            llm + ":4: time goes back (-1.5 s after 3.5 s); sort the trace by time first");
  const std::string ali = testing::WriteTempFile(
      "ali.csv", "gmt_create,checkpoint_model_version_id\n2024-11-14 00:00:05,a\n2024-11-14 00:00:01,b\n");
  EXPECT_EQ(ErrorOf([&] { ParseSources({{{"type", "alibaba-genai"}, {"file", ali}, {"spread", "even"}}}); }),
            ali + ":3: time goes back (-4 s after 0 s); sort the trace by time first");
}

TEST(TraceFormatsOrder, ATimeThatLeavesSimTimeInTheRunIsRefused) {
  // 9e9 s slowed down twice is 1.8e10 s, past the 1e9 s an input time may reach: refused
  // when the source is loaded (the replay's own check stays as a last defence).
  const std::string csv = testing::WriteTempFile("t.csv", "time_s,function\n0,a\n9000000000,a\n");
  const std::string e = ErrorOf([&] { ParseSources({{{"type", "csv"}, {"file", csv}, {"time_scale", 0.5}}}); });
  EXPECT_HAS(e, "the trace's last record (9e+09 s) would arrive at 1.8e+10 s of the run");
  EXPECT_HAS(e, "simulated time is int64 nanoseconds");
}

// ---- Names that are not UTF-8 ------------------------------------------------------------

TEST(TraceFormatsNames, InvalidUtf8NamesAreBadRows) {
  const std::string bad = "ba\xFF" "d";
  const std::string csv = testing::WriteTempFile("t.csv", "time_s,function\n0,a\n1," + bad + "\n2,a\n");
  CsvTrace c(csv, false);
  RawRecord r;
  ASSERT_TRUE(c.Next(&r));
  EXPECT_EQ(ErrorOf([&] { c.Next(&r); }), csv + ":3: function name is not valid UTF-8");
  CsvTrace cs(csv, true);
  EXPECT_EQ(Records(cs).size(), 2u);
  EXPECT_EQ(cs.skipped_rows(), 1);

  const std::string f19 = testing::WriteTempFile("f19.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,1\no,a," +
                                                                bad + ",http,1\n");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2019Trace t(f19, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false); }),
            f19 + ":3: function name is not valid UTF-8");
  const std::string trig = testing::WriteTempFile("trig.csv", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,\xC0\xAF,1\n");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2019Trace t(trig, "", "", MinuteSpacing::kEven, RngStream(1, "x"), false); }),
            trig + ":2: Trigger is not valid UTF-8");

  const std::string f21 = testing::WriteTempFile("f21.csv", "app,func,end_timestamp,duration\nx," + bad + ",2,1\n");
  EXPECT_EQ(ErrorOf([&] { AzureFunctions2021Trace t(f21, false); }), f21 + ":2: function name is not valid UTF-8");

  const std::string ali = testing::WriteTempFile(
      "ali.csv", "gmt_create,checkpoint_model_version_id\n2024-11-14 00:00:00,a\n2024-11-14 00:00:01," + bad + "\n");
  AlibabaGenAiTrace a(ali, "checkpoint_model_version_id", false);
  ASSERT_TRUE(a.Next(&r));
  EXPECT_EQ(ErrorOf([&] { a.Next(&r); }), ali + ":3: function name is not valid UTF-8");
}

// ---- Profiles ----------------------------------------------------------------------------

TEST(TraceFormatsProfile, EveryNumberIsRangeCheckedWhereItIsRead) {
  const std::string header = "model,gpu,batch,sm_percent,quota_percent,latency_ms\n";
  const std::string good = "m,V100-16GB,1,100,100,5\n";
  struct Case {
    std::string row;
    std::string message;
  } cases[] = {
      {"m,V100-16GB,4294967298,100,100,5", ":3: batch must be at most 65536 (got 4294967298)"},
      {"m,V100-16GB,99999999999999999999,100,100,5", ":3: batch must be at most 65536 (got 99999999999999999999)"},
      {"m,V100-16GB,0,100,100,5", ":3: batch must be >= 1 (got 0)"},
      {"m,V100-16GB,65537,100,100,5", ":3: batch must be at most 65536 (got 65537)"},
      {"m,V100-16GB,2.5,100,100,5", ":3: column 'batch': '2.5' is not an integer"},
      {"m,V100-16GB,2,0,100,5", ":3: sm_percent must be in (0, 100] (got 0)"},
      {"m,V100-16GB,2,100.5,100,5", ":3: sm_percent must be in (0, 100] (got 100.5)"},
      {"m,V100-16GB,2,100,0,5", ":3: quota_percent must be in (0, 100] (got 0)"},
      {"m,V100-16GB,2,100,100,0", ":3: latency_ms must be > 0 and at most 1e9 (got 0)"},
      {"m,V100-16GB,2,100,100,-1", ":3: latency_ms must be > 0 and at most 1e9 (got -1)"},
      {"m,V100-16GB,2,100,100,1e300", ":3: latency_ms must be > 0 and at most 1e9 (got 1e300)"},
      {"m,V100-16GB,2,100,100,inf", ":3: column 'latency_ms': 'inf' is not a number"},
      {"m,V100-16GB,2,100,100,nan", ":3: column 'latency_ms': 'nan' is not a number"},
      {",V100-16GB,2,100,100,5", ":3: model must not be empty"},
      {"m\xFF,V100-16GB,2,100,100,5", ":3: model is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    const std::string path = testing::WriteTempFile("p.csv", header + good + c.row + "\n");
    EXPECT_HAS(ErrorOf([&] { LatencyProfile::Load(path); }), path + c.message);
  }
  const std::string spread = testing::WriteTempFile("s.csv", "model,gpu,batch,sm_percent,quota_percent,latency_ms,spread_ms\n"
                                                             "m,V100-16GB,1,100,100,5,-0.5\n");
  EXPECT_HAS(ErrorOf([&] { LatencyProfile::Load(spread); }), spread + ":2: spread_ms must be >= 0 and at most 1e9 (got -0.5)");
  // sm_count: a V100 has 80 SMs.
  const std::string count = testing::WriteTempFile("c.csv", "model,gpu,batch,sm_count,quota_percent,latency_ms\n"
                                                            "m,V100-16GB,1,81,100,5\n");
  EXPECT_HAS(ErrorOf([&] { LatencyProfile::Load(count); }), count + ":2: sm_count must be in [1, 80] for V100-16GB (got 81)");
}

// ---- The command line --------------------------------------------------------------------

testing::CommandResult Gpuslice(const std::string& args) {
  return testing::RunCommand(std::string(GPUSLICE_BINARY) + " " + args + " 2>&1");
}

TEST(TraceFormatsCli, InfoOfASingleServiceTraceNeedsNoFunction) {
  const std::string llm = Fixture("traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv");
  auto r = Gpuslice("trace info " + llm + " -f azure-llm --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["requests"], 8819);  // wc -l: 8820 lines, one a header
  EXPECT_EQ(j["top_functions"][0]["function"], "AzureLLMInferenceTrace_code");
  // The stem of a compressed copy drops the compression suffix too.
  r = Gpuslice("trace info " + Fixture("traces/compressed/conversation_trace.jsonl.zst") + " -f mooncake --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["requests"], 12031);  // wc -l conversation_trace.jsonl
  EXPECT_EQ(j["top_functions"][0]["function"], "conversation_trace");
  // (The published Alibaba sample has rows with an empty model version: bad rows.)
  r = Gpuslice("trace info " + Fixture("traces/alibaba-genai-v2026/lora_request_trace.csv") +
               " -f alibaba-genai --skip-bad-rows");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(TraceFormatsCli, ConvertChecksItsOutputBeforeReading) {
  const std::string dir = testing::TempDir();
  const std::string trace = testing::WriteTempFile("t.csv", "time_s,function\n0,a\n1,b\n");
  // The command line's option check or convert's own: either way exit 2, naming the option
  // and the path.
  auto r = Gpuslice("trace convert " + trace + " -f csv -o " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "-output");
  EXPECT_HAS(r.output, dir + "': is a folder");
  r = Gpuslice("trace convert " + trace + " -f csv -o " + trace + "/x.csv");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "-output");
  EXPECT_HAS(r.output, trace + "/x.csv': " + trace + " is ");
  // Missing folders are made, and removed again if the conversion fails.
  r = Gpuslice("trace convert " + trace + " -f csv -o " + dir + "/made/here/x.csv");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadBytes(dir + "/made/here/x.csv"), "time_s,function\n0.000000000,a\n1.000000000,b\n");
  std::filesystem::remove_all(dir + "/made");
  // A bad trace (time going back) leaves no output and no temporary.
  const std::string back = testing::WriteTempFile("back.csv", "time_s,function\n1,a\n0,a\n");
  r = Gpuslice("trace convert " + back + " -f csv -o " + dir + "/new/out.csv");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, back + ":3: time goes back");
  r = Gpuslice("trace convert " + trace + " -f csv -o " + dir + "/good.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadBytes(dir + "/good.csv"), "time_s,function\n0.000000000,a\n1.000000000,b\n");
  // Neither the trace itself nor an existing file is overwritten (without --force).
  r = Gpuslice("trace convert " + trace + " -f csv -o " + trace);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "'" + trace + "': ");
  r = Gpuslice("trace convert " + trace + " -f csv -o " + dir + "/good.csv");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, dir + "/good.csv: exists (use --force");
  r = Gpuslice("trace convert " + back + " -f csv -o " + dir + "/good.csv --force");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // the trace is bad: the old file stays
  EXPECT_EQ(ReadBytes(dir + "/good.csv"), "time_s,function\n0.000000000,a\n1.000000000,b\n");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"back.csv", "good.csv", "t.csv"}));
}

TEST(TraceFormatsCli, ConvertStopsOnASignalLeavingNothing) {
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string dir = testing::TempDir() + "/" + std::to_string(sig);
    std::filesystem::create_directories(dir);
    // One function at 20,000 invocations a minute for a day: 28.8 M rows to write, far more
    // than the signal lets through.
    std::string row = "o,a,f,http";
    std::string header = "HashOwner,HashApp,HashFunction,Trigger";
    for (int m = 1; m <= 1440; ++m) {
      header += "," + std::to_string(m);
      row += ",20000";
    }
    const std::string trace = dir + "/inv.csv";
    std::ofstream(trace) << header << "\n" << row << "\n";
    const std::string out = dir + "/out.csv";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(GPUSLICE_BINARY, GPUSLICE_BINARY, "trace", "convert", trace.c_str(), "-f", "azure-functions-2019", "-o",
              out.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it writes, then signal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool writing = false;
    while (!writing && std::chrono::steady_clock::now() < deadline) {
      for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().filename().string().rfind("out.csv.tmp", 0) == 0 && e.file_size() > 0) writing = true;
      }
      if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(writing);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
    EXPECT_EQ(left, (std::vector<std::string>{"inv.csv"}));
  }
}

}  // namespace
}  // namespace gpuslice
