// The calibration loop on a simulated device (no GPU): what it measures, the files it
// writes, and that the simulator reads them back.
#include "gpu/calibrate/calibrator.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "gpu/fit.h"
#include "gpu/profile.h"
#include "sim/util/csv.h"
#include "sim/util/error.h"
#include "sim/util/json_reader.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;
using testing::SourceDir;

// A GPU of 16 SMs, partitions of 2: a unit takes work / SMs^0.8, plus 4 us of launch; while
// the device's other partition is busy, everything takes 25% longer.
class FakeDevice : public CalibrationDevice {
 public:
  FakeDevice() {
    info_.name = "Fake GPU";
    info_.profile_name = "";
    info_.sm_count = 16;
    info_.min_partition_sms = 2;
    info_.partition_alignment_sms = 2;
    info_.memory_gib = 16;
    info_.memory_bandwidth_gbps = 900;
  }
  const DeviceInfo& info() const override { return info_; }
  std::vector<int> PartitionSizes() const override {
    std::vector<int> s;
    for (int i = 2; i <= 16; i += 2) s.push_back(i);
    return s;
  }
  std::unique_ptr<Partition> OpenPartition(int sm_count) override {
    if (++opened == interrupt_at_open && interrupt != nullptr) interrupt->store(true);
    return std::make_unique<FakePartition>(this, (sm_count + 1) / 2 * 2);
  }
  // Prepare() throws GpuError for this model at batches >= fail_from_batch (out of memory),
  // or for every model and batch when fail_everything.
  std::string fail_model;
  int fail_from_batch = 0;
  bool fail_everything = false;
  // Sets *interrupt when the interrupt_at_open-th partition opens (a signal mid-run).
  std::atomic<bool>* interrupt = nullptr;
  int interrupt_at_open = 0, opened = 0;
  std::pair<std::unique_ptr<Partition>, std::unique_ptr<Partition>> OpenPair(int sm_count) override {
    return {OpenPartition(sm_count), OpenPartition(sm_count)};
  }
  std::atomic<int> running{0};

 private:
  class FakeInference : public Inference {
   public:
    FakeInference(FakeDevice* dev, int sms, const ZooModel& m, int batch) : dev_(dev), model_(m.name()) {
      for (const ZooOp& op : m.ops()) {
        if (op.kind == ZooOpKind::kSave || op.kind == ZooOpKind::kFlatten) continue;
        const double work_ns = 2e-3 * op.macs_per_sample * batch + 5e-4 * op.activation_bytes_per_sample * batch + 2000;
        unit_ns_.push_back(static_cast<int64_t>(work_ns / std::pow(sms / 16.0, 0.8)));
      }
    }
    int units() const override { return static_cast<int>(unit_ns_.size()); }
    std::vector<double> TimeFull(int count) override {
      std::vector<double> out;
      ++dev_->running;
      for (int c = 0; c < count; ++c) {
        for (int i = 0; i < units(); ++i) Launch(i);
        Synchronize();
        out.push_back(LastRunMs());
      }
      --dev_->running;
      return out;
    }
    void RunInBackground(const std::atomic<bool>& stop, std::atomic<bool>& started) override {
      ++dev_->running;
      started = true;
      while (!stop.load()) std::this_thread::yield();
      --dev_->running;
    }
    std::vector<int64_t> TimeUnits(int) override { return unit_ns_; }
    std::string CheckOutput() override { return model_ == "mobilenet_v3_large" ? "every output is zero" : ""; }
    double LastRunMs() override { return (last_end_ - first_launch_) / 1e6; }
    int64_t NowNs() override { return host_; }
    void Launch(int i) override {
      host_ += 4000;
      if (i == 0) first_launch_ = host_;
      const double slow = dev_->running.load() > 1 ? 1.25 : 1.0;
      gpu_free_ = std::max(gpu_free_, host_) + static_cast<int64_t>(unit_ns_[static_cast<size_t>(i)] * slow);
      if (i == units() - 1) last_end_ = gpu_free_;
    }
    int64_t Synchronize() override { return host_ = std::max(host_, gpu_free_); }
    void SleepUntil(int64_t t) override { host_ = std::max(host_, t); }

   private:
    FakeDevice* dev_;
    std::string model_;
    std::vector<int64_t> unit_ns_;
    int64_t host_ = 0, gpu_free_ = 0, first_launch_ = 0, last_end_ = 0;
  };
  class FakePartition : public Partition {
   public:
    FakePartition(FakeDevice* dev, int sms) : dev_(dev), sms_(sms) {}
    int sm_count() const override { return sms_; }
    std::unique_ptr<Inference> Prepare(const ZooModel& m, int batch) override {
      if (dev_->fail_everything || (m.name() == dev_->fail_model && batch >= dev_->fail_from_batch)) {
        throw GpuError("cudaMalloc: out of memory");
      }
      return std::make_unique<FakeInference>(dev_, sms_, m, batch);
    }

   private:
    FakeDevice* dev_;
    int sms_;
  };
  DeviceInfo info_;
};

CalibrationOptions SmallPlan(const std::string& out) {
  CalibrationOptions o;
  o.zoo_dir = SourceDir() + "/gpu/calibrate/zoo";
  o.models = {"mobilenet_v3_large", "resnet50"};
  o.batches = {1, 4, 8};
  o.quotas = {0.2, 0.5, 1.0};
  o.repetitions = 3;
  o.warmup = 1;
  o.pair_batch = 4;
  o.output_dir = out;
  return o;
}

long CountLines(const fs::path& p) {
  std::ifstream in(p);
  long n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(Calibrate, WritesMeasurementsProfilesFitAndPairs) {
  const std::string out = ::testing::TempDir() + "/calib_out";
  fs::remove_all(out);
  FakeDevice device;
  std::ostringstream progress;
  RunCalibration(SmallPlan(out), device, progress);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  for (const char* f : {"metadata.json", "fit.json", "units.csv", "interference.csv", "measurements/resnet50.csv",
                        "profiles/resnet50.csv", "profiles/mobilenet_v3_large.csv"}) {
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  }
  // 8 partition sizes x 3 batches x 3 quotas x 3 repetitions, plus the header.
  EXPECT_EQ(CountLines(out + "/measurements/resnet50.csv"), 8 * 3 * 3 * 3 + 1);
  // The simulator reads the fitted profile: the whole grid, at every SM share and quota.
  const LatencyProfile p = LatencyProfile::Load(out + "/profiles/resnet50.csv");
  EXPECT_TRUE(p.has_quota_grid());
  EXPECT_EQ(p.sm_percents().size(), 8u);
  // Fewer SMs: slower; a long inference at quota 0.2 stretches over windows.
  EXPECT_GT(p.GridMs(8, 12.5, 100), p.GridMs(8, 100, 100));
  EXPECT_GT(p.GridMs(8, 12.5, 20), 2 * p.GridMs(8, 12.5, 100));

  const nlohmann::ordered_json meta = ParseJsonFile(out + "/metadata.json");
  EXPECT_EQ(meta["device"]["name"], "Fake GPU");
  EXPECT_EQ(meta["measurements"], 2 * 8 * 3 * 3 * 3);
  EXPECT_EQ(meta["plan"]["sm_counts"].size(), 8u);
  // A model whose output is not sane is reported, once per batch, on the whole GPU.
  ASSERT_EQ(meta["warnings"].size(), 3u);
  EXPECT_EQ(meta["warnings"][0], "mobilenet_v3_large batch 1: every output is zero");
  EXPECT_TRUE(meta["gpu_state"].contains("start"));
  EXPECT_EQ(meta["timing_s"]["pairs"]["pairs"], 4);
  EXPECT_NEAR(meta["timing_s"]["pairs"]["mean_measured_slowdown"].get<double>(), 1.25, 0.01);
  const nlohmann::ordered_json fit = ParseJsonFile(out + "/fit.json");
  ASSERT_TRUE(fit.contains("resnet50"));
  // Measured through the strict token gate, the quota effect is the plain token rule's: the
  // fit report tells it from the structural model's FaST-GShare-like quota curve.
  for (const char* model : {"resnet50", "mobilenet_v3_large"}) {
    EXPECT_LT(fit[model]["token_rule_random_holdout"]["mape_percent"].get<double>(),
              fit[model]["random_holdout"]["mape_percent"].get<double>()) << model;
  }
  // Every ordered pair measured, each slowed by the fake's 25%.
  EXPECT_EQ(CountLines(out + "/interference.csv"), 4 + 1);
  std::ifstream pairs(out + "/interference.csv");
  std::string line;
  std::getline(pairs, line);
  while (std::getline(pairs, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
    ASSERT_EQ(cols.size(), 11u) << line;
    EXPECT_NEAR(std::stod(cols[7]), 1.25, 0.01) << line;
  }
  EXPECT_NE(progress.str().find("calibrate: 16 SMs"), std::string::npos) << progress.str();
}

TEST(Calibrate, AnInterruptedRunKeepsEveryCompletedPointInThePartialFolder) {
  // The signal arrives as the third partition size opens: two sizes are done (2 models x 3
  // batches x 3 quotas x 3 repetitions each, 54 rows per model file over both sizes), and
  // the first point of the third is not measured.
  const std::string out = ::testing::TempDir() + "/calib_interrupted";
  fs::remove_all(out);
  fs::remove_all(out + ".partial");
  FakeDevice device;
  std::atomic<bool> interrupted{false};
  device.interrupt = &interrupted;
  device.interrupt_at_open = 3;
  CalibrationOptions o = SmallPlan(out);
  o.interrupted = &interrupted;
  std::ostringstream progress;
  EXPECT_THROW(RunCalibration(o, device, progress), CalibrationInterrupted);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(CountLines(out + ".partial/measurements/resnet50.csv"), 2 * 3 * 3 * 3 + 1);
  EXPECT_EQ(CountLines(out + ".partial/measurements/mobilenet_v3_large.csv"), 2 * 3 * 3 * 3 + 1);
  const nlohmann::ordered_json status = ParseJsonFile(out + ".partial/INTERRUPTED.json");
  EXPECT_EQ(status["measurements"], 2 * 2 * 3 * 3 * 3);
  EXPECT_EQ(status["partitions_this_part"].size(), 2u);
  EXPECT_EQ(status["reason"], "signal");
  EXPECT_EQ(status["interrupted_at"]["batch"], 1);
  // The measurements are complete rows that `gpuslice fit` reads: one point per (size,
  // batch, quota), its repetitions pooled.
  EXPECT_EQ(ReadMeasurements(out + ".partial/measurements/resnet50.csv").points.size(), 2u * 3 * 3);
  // A second run does not overwrite them.
  EXPECT_THROW(RunCalibration(SmallPlan(out), device, progress), InputError);
}

// The measured points of a measurements file: (partition SMs, batch, quota) -> rows.
std::map<std::tuple<int, int, double>, int> PointsOf(const std::string& path) {
  std::map<std::tuple<int, int, double>, int> points;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) c.push_back(x);
    ++points[{std::stoi(c.at(6)), std::stoi(c.at(2)), std::stod(c.at(4))}];
  }
  return points;
}

TEST(Calibrate, ResumedPartsMeasureEveryPointOnceAndDropAPointCutOffMidWay) {
  const std::string out = ::testing::TempDir() + "/calib_resumed";
  fs::remove_all(out);
  fs::remove_all(out + ".partial");
  CalibrationOptions o = SmallPlan(out);
  o.resume = true;
  std::atomic<bool> interrupted{false};
  o.interrupted = &interrupted;
  std::ostringstream progress;
  // Part 1 stops as the 3rd partition opens (2 sizes done), part 2 as its 4th opens.
  FakeDevice first;
  first.interrupt = &interrupted;
  first.interrupt_at_open = 3;
  EXPECT_THROW(RunCalibration(o, first, progress), CalibrationInterrupted);
  // A machine's time limit cut the next point off after 2 of its 3 rows, and a row mid-way.
  {
    std::ofstream f(out + ".partial/measurements/resnet50.csv", std::ios::app);
    f << "resnet50,Fake GPU,1,37.5000,20.00,999.00000,6,0\nresnet50,Fake GPU,1,37.5000,20.00,999.00000,6,1\nresnet50,Fa";
  }
  interrupted = false;
  FakeDevice second;
  second.interrupt = &interrupted;
  second.interrupt_at_open = 4;
  EXPECT_THROW(RunCalibration(o, second, progress), CalibrationInterrupted);
  interrupted = false;
  FakeDevice third;
  RunCalibration(o, third, progress);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  // 8 sizes x 3 batches x 3 quotas, each with exactly its 3 repetitions.
  for (const char* model : {"resnet50", "mobilenet_v3_large"}) {
    const auto points = PointsOf(out + "/measurements/" + model + ".csv");
    EXPECT_EQ(points.size(), 8u * 3 * 3) << model;
    for (const auto& [key, rows] : points) EXPECT_EQ(rows, 3) << model;
  }
  std::ifstream in(out + "/measurements/resnet50.csv");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("999.0"), std::string::npos);
  // Units once per batch (72 layers of ResNet-50, 91 of MobileNet-V3), pairs once each.
  EXPECT_EQ(CountLines(out + "/units.csv"), 3 * (72 + 91) + 1);
  EXPECT_EQ(CountLines(out + "/interference.csv"), 4 + 1);
  const nlohmann::ordered_json meta = ParseJsonFile(out + "/metadata.json");
  EXPECT_EQ(meta["measurements"], 2 * 8 * 3 * 3 * 3);
  EXPECT_GT(meta["timing_s"]["earlier_parts"].get<double>(), 0);
  // Resuming a complete run does nothing.
  RunCalibration(o, third, progress);
  EXPECT_NE(progress.str().find("is complete; nothing to resume"), std::string::npos);
}

TEST(Calibrate, ResumingWithAnotherPlanIsRefused) {
  const std::string out = ::testing::TempDir() + "/calib_other_plan";
  fs::remove_all(out);
  fs::remove_all(out + ".partial");
  CalibrationOptions o = SmallPlan(out);
  o.resume = true;
  o.budget_s = 1e-9;  // spent at the first check
  FakeDevice device;
  std::ostringstream progress;
  try {
    RunCalibration(o, device, progress);
    FAIL();
  } catch (const CalibrationInterrupted& e) {
    EXPECT_TRUE(e.budget_spent());
  }
  EXPECT_EQ(ParseJsonFile(out + ".partial/INTERRUPTED.json")["reason"], "time budget");
  o.budget_s = 0;
  o.batches = {1, 4};
  try {
    RunCalibration(o, device, progress);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("at 'batches'"), std::string::npos) << e.what();
  }
}

TEST(Calibrate, APointThatFailsIsRecordedAndThePlanGoesOn) {
  const std::string out = ::testing::TempDir() + "/calib_failing_point";
  fs::remove_all(out);
  FakeDevice device;
  device.fail_model = "resnet50";
  device.fail_from_batch = 8;  // batch 8 "does not fit" on any partition
  std::ostringstream progress;
  RunCalibration(SmallPlan(out), device, progress);
  EXPECT_EQ(PointsOf(out + "/measurements/resnet50.csv").size(), 8u * 2 * 3);
  EXPECT_EQ(PointsOf(out + "/measurements/mobilenet_v3_large.csv").size(), 8u * 3 * 3);
  const nlohmann::ordered_json meta = ParseJsonFile(out + "/metadata.json");
  // One per partition size; the pairs run at batch 4 and are all measured.
  ASSERT_EQ(meta["failures"].size(), 8u);
  EXPECT_EQ(meta["failures"][0]["model"], "resnet50");
  EXPECT_EQ(meta["failures"][0]["batch"], 8);
  EXPECT_EQ(meta["failures"][0]["error"], "cudaMalloc: out of memory");
  EXPECT_EQ(CountLines(out + "/interference.csv"), 4 + 1);
}

TEST(Calibrate, FiveFailuresInARowStopTheRunAndKeepThePartialFolder) {
  const std::string out = ::testing::TempDir() + "/calib_failing";
  fs::remove_all(out);
  fs::remove_all(out + ".partial");
  FakeDevice device;
  device.fail_everything = true;
  std::ostringstream progress;
  EXPECT_THROW(RunCalibration(SmallPlan(out), device, progress), GpuError);
  const nlohmann::ordered_json status = ParseJsonFile(out + ".partial/INTERRUPTED.json");
  EXPECT_EQ(status["reason"], "failures");
  EXPECT_EQ(status["failures"].size(), 5u);
}

TEST(Calibrate, SmCountsThePartitionsCannotHaveAreRefusedBeforeAnyWork) {
  const std::string out = ::testing::TempDir() + "/calib_bad_sizes";
  fs::remove_all(out);
  fs::remove_all(out + ".partial");
  CalibrationOptions o = SmallPlan(out);
  o.sm_counts = {4, 15};  // the fake makes 2, 4, ..., 16
  FakeDevice device;
  std::ostringstream progress;
  try {
    RunCalibration(o, device, progress);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("15 SMs is not a partition this GPU makes (16 SMs; partitions of 2, 4, ..., 14 and 16)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(device.opened, 0);
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST(Calibrate, TheDeviceCheckRunsConvolutionsAndGemmsOnAPartitionAndTheWholeGpuAndReportsEachFailure) {
  CalibrationOptions o = SmallPlan(::testing::TempDir() + "/calib_check");
  FakeDevice device;
  DeviceCheck check = CheckDevice(o, device);
  EXPECT_TRUE(check.ok);
  // The zoo line, then on 2 SMs and on 16: open, resnet50, bert_base; then the pair.
  ASSERT_EQ(check.lines.size(), 1u + 3 + 3 + 1);
  EXPECT_EQ(check.lines[0].rfind("ok    zoo", 0), 0u) << check.lines[0];
  EXPECT_NE(check.lines[2].find("resnet50 batch 1 on a partition of 2 SMs"), std::string::npos) << check.lines[2];
  EXPECT_NE(check.lines[6].find("bert_base batch 1 on the whole GPU (16 SMs)"), std::string::npos) << check.lines[6];
  device.fail_model = "bert_base";
  device.fail_from_batch = 1;
  check = CheckDevice(o, device);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.lines[3].rfind("FAIL  bert_base batch 1 on a partition of 2 SMs: cudaMalloc: out of memory", 0), 0u)
      << check.lines[3];
  EXPECT_EQ(check.lines[5].rfind("ok    resnet50 batch 1 on the whole GPU", 0), 0u) << check.lines[5];
}

TEST(Calibrate, RefusesAnExistingFolderAndBadPlans) {
  const std::string out = ::testing::TempDir() + "/calib_exists";
  fs::create_directories(out);
  FakeDevice device;
  std::ostringstream progress;
  EXPECT_THROW(RunCalibration(SmallPlan(out), device, progress), InputError);
  CalibrationOptions o = SmallPlan(::testing::TempDir() + "/calib_new");
  o.models = {"alexnet"};
  try {
    ValidateCalibrationOptions(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no model 'alexnet'"), std::string::npos) << e.what();
  }
  o = SmallPlan(::testing::TempDir() + "/calib_new");
  o.quotas = {0.5};
  EXPECT_THROW(ValidateCalibrationOptions(o), InputError);
  o = SmallPlan(::testing::TempDir() + "/calib_new");
  o.sm_counts = {64};
  EXPECT_THROW(RunCalibration(o, device, progress), InputError);
}

TEST(Calibrate, DescribesThePlanWithoutAGpu) {
  CalibrationOptions o = SmallPlan(::testing::TempDir() + "/calib_plan");
  std::ostringstream out;
  DescribePlan(o, out);
  EXPECT_NE(out.str().find("resnet50: 72 launch units, 25.56 M parameters, 4.089 G multiply-adds"), std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace gpuslice
