#include <gtest/gtest.h>

#include "gpu/perf_model.h"
#include "gpu/profile.h"
#include "sim/util/error.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

std::string V100(const std::string& model) { return testing::SourceDir() + "/gpu/profiles/v100/" + model + ".csv"; }

TEST(LatencyProfile, LoadsTheV100ProfilesWithTheirFullGrid) {
  LatencyProfile p = LatencyProfile::Load(V100("resnet50"));
  EXPECT_EQ(p.model(), "resnet50");
  EXPECT_EQ(p.gpu(), "V100-16GB");
  EXPECT_EQ(p.point_count(), 800u);  // 4 batches x 20 SM shares x 10 quotas
  EXPECT_EQ(p.batches(), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(p.sm_percents().size(), 20u);
  // Grid points come back exactly (values from the CSV).
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(1, 100), 20.6475);
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(4, 100), 21.0917);
  EXPECT_DOUBLE_EQ(p.MeasuredMs(1, 5, 10), 244.2277);
}

TEST(LatencyProfile, InterpolatesLinearlyInBatchAndSm) {
  LatencyProfile p = LatencyProfile::Load(V100("mobilenet_v3_large"));
  const double b2 = p.LatencyFullQuotaMs(2, 100), b4 = p.LatencyFullQuotaMs(4, 100);
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(3, 100), 0.5 * (b2 + b4));
  const double s50 = p.LatencyFullQuotaMs(1, 50), s55 = p.LatencyFullQuotaMs(1, 55);
  EXPECT_NEAR(p.LatencyFullQuotaMs(1, 52.5), 0.5 * (s50 + s55), 1e-12);
}

TEST(LatencyProfile, OutsideTheGridClampsInSmAndNeverFallsInBatch) {
  LatencyProfile p = LatencyProfile::Load(V100("resnet50"));
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(1, 1), p.LatencyFullQuotaMs(1, 5));
  // The last measured batch segment of ResNet-50 falls (21.09 -> 20.51 ms); past the grid
  // the latency stays flat instead of extrapolating downwards.
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(32, 100), p.LatencyFullQuotaMs(8, 100));
}

TEST(LatencyProfile, SinglePointProfileIsConstant) {
  std::string path = testing::WriteTempFile("one.csv",
      "model,gpu,batch,sm_percent,quota_percent,latency_ms\nm,V100-16GB,4,100,100,12.5\n");
  LatencyProfile p = LatencyProfile::Load(path);
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(1, 30), 12.5);
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(64, 100), 12.5);
}

TEST(LatencyProfile, BadRowsNameFileAndLine) {
  const std::string header = "model,gpu,batch,sm_percent,quota_percent,latency_ms\n";
  struct Bad {
    std::string body;
    std::string message;
  } cases[] = {
      {"m,g,1,100,100,abc\n", ":2: column 'latency_ms': 'abc' is not a number"},
      {"m,g,1,100,100,5\nm,g,2,100,100\n", ":3: expected 6 fields, got 5"},
      {"m,g,0,100,100,5\n", ":2: batch must be >= 1"},
      {"m,g,1,100,100,-1\n", ":2: latency_ms must be > 0"},
      {"m,g,1,100,100,5\nm,g,1,100,100,6\n", ":3: duplicate point"},
      {"m,g,1,50,100,5\nm,g,2,100,100,6\n", "incomplete grid"},
  };
  for (const Bad& b : cases) {
    std::string path = testing::WriteTempFile("bad.csv", header + b.body);
    try {
      LatencyProfile::Load(path);
      ADD_FAILURE() << "no error for " << b.body;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
    }
  }
}

TEST(LatencyProfile, ReadsSmCountsOfANamedGpu) {
  std::string path = testing::WriteTempFile("h.csv",
      "model,gpu,batch,sm_count,quota_percent,latency_ms,spread_ms\n"
      "m,H100-80GB,1,66,100,10,0.1\nm,H100-80GB,1,132,100,6,0.1\n");
  LatencyProfile p = LatencyProfile::Load(path);
  EXPECT_EQ(p.sm_percents(), (std::vector<double>{50, 100}));
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(1, 75), 8.0);
  std::string bad = testing::WriteTempFile("b.csv",
      "model,gpu,batch,sm_count,quota_percent,latency_ms\nm,H100-80GB,1,140,100,10\n");
  EXPECT_THROW(LatencyProfile::Load(bad), InputError);
  std::string unknown = testing::WriteTempFile("u.csv",
      "model,gpu,batch,sm_count,quota_percent,latency_ms\nm,Z9000,1,10,100,10\n");
  EXPECT_THROW(LatencyProfile::Load(unknown), InputError);
}

TEST(LatencyProfile, AcceptsCrlfAndNoFinalNewline) {
  std::string path = testing::WriteTempFile("crlf.csv",
      "model,gpu,batch,sm_percent,quota_percent,latency_ms\r\nm,g,1,100,100,5\r\nm,g,2,100,100,7");
  LatencyProfile p = LatencyProfile::Load(path);
  EXPECT_DOUBLE_EQ(p.LatencyFullQuotaMs(2, 100), 7.0);
}

TEST(TokenWindow, WholeQuotaIsSoloAndSmallQuotaSpansWindows) {
  EXPECT_DOUBLE_EQ(TokenWindowLatencyMs(25.0, 1.0, 40.0), 25.0);
  // q = 0.5, W = 40: 20 ms of GPU per window; 25 ms need one full window plus 5 ms.
  EXPECT_DOUBLE_EQ(TokenWindowLatencyMs(25.0, 0.5, 40.0), 45.0);
  // Fits in the first token: no stretch.
  EXPECT_DOUBLE_EQ(TokenWindowLatencyMs(15.0, 0.5, 40.0), 15.0);
  // Exactly k tokens: k-1 full windows plus the last token.
  EXPECT_DOUBLE_EQ(TokenWindowLatencyMs(40.0, 0.5, 40.0), 60.0);
}

}  // namespace
}  // namespace gpuslice
