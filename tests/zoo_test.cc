// The zoo's layer descriptions against the published parameter and multiply-add counts of
// the real models: a layer missing, doubled or mis-shaped changes them.
#include "gpu/calibrate/zoo.h"

#include <fstream>

#include <gtest/gtest.h>

#include "sim/util/error.h"
#include "tests/test_util.h"

namespace gpuslice {
namespace {

using testing::SourceDir;

std::string ZooPath(const std::string& name) { return SourceDir() + "/gpu/calibrate/zoo/" + name + ".json"; }

TEST(Zoo, ListsTheFourModels) {
  EXPECT_EQ(ListZoo(SourceDir() + "/gpu/calibrate/zoo"),
            (std::vector<std::string>{"bert_base", "mobilenet_v3_large", "resnet50", "vgg16"}));
}

struct Published {
  const char* name;
  long params;         // exact, from torchvision / Hugging Face
  double gmacs;        // per sample
  double gmacs_tolerance;
};

class ZooPublished : public ::testing::TestWithParam<Published> {};

TEST_P(ZooPublished, ParametersExactMultiplyAddsWithinTolerance) {
  const Published& p = GetParam();
  const ZooModel model = ZooModel::Read(ZooPath(p.name));
  EXPECT_EQ(model.params(), p.params) << p.name;
  EXPECT_EQ(model.published_params(), p.params) << p.name;
  EXPECT_NEAR(model.macs_per_sample() / 1e9, p.gmacs, p.gmacs_tolerance) << p.name;
}

INSTANTIATE_TEST_SUITE_P(
    Models, ZooPublished,
    ::testing::Values(Published{"resnet50", 25557032, 4.09, 0.03},        // torchvision: 4.09 GFLOPS
                      Published{"vgg16", 138357544, 15.47, 0.05},          // torchvision: 15.47
                      Published{"mobilenet_v3_large", 5483032, 0.217, 0.005},  // torchvision 0.22, paper 219 M
                      Published{"bert_base", 109482240, 11.17, 0.02}),     // 10.87 G weights + 0.30 G attention
    [](const ::testing::TestParamInfo<Published>& param_info) { return std::string(param_info.param.name); });

TEST(Zoo, ShapesFollowTheArchitecture) {
  const ZooModel resnet = ZooModel::Read(ZooPath("resnet50"));
  EXPECT_EQ(resnet.ops().front().out_shape, (TensorShape{64, 112, 112}));
  EXPECT_EQ(resnet.ops().back().out_shape, (TensorShape{1000, 1, 1}));
  int convs = 0;
  for (const ZooOp& op : resnet.ops()) convs += op.kind == ZooOpKind::kConv;
  EXPECT_EQ(convs, 53);  // 49 in the main path + 4 projections

  const ZooModel bert = ZooModel::Read(ZooPath("bert_base"));
  EXPECT_TRUE(bert.is_sequence());
  EXPECT_EQ(bert.sequence(), 128);
  EXPECT_EQ(bert.ops()[0].out_shape, (TensorShape{768, 128, 1}));
  EXPECT_EQ(bert.ops().back().out_shape, (TensorShape{768, 1, 1}));
}

TEST(Zoo, SequenceLengthScalesAttentionQuadratically) {
  const ZooModel s128 = ZooModel::Read(ZooPath("bert_base"), 128);
  const ZooModel s256 = ZooModel::Read(ZooPath("bert_base"), 256);
  double attention128 = 0, attention256 = 0;
  for (const ZooOp& op : s128.ops()) attention128 += op.kind == ZooOpKind::kAttention ? op.macs_per_sample : 0;
  for (const ZooOp& op : s256.ops()) attention256 += op.kind == ZooOpKind::kAttention ? op.macs_per_sample : 0;
  EXPECT_DOUBLE_EQ(attention256, 4 * attention128);
  EXPECT_EQ(s128.params(), s256.params());
}

TEST(Zoo, BytesMovedCountWeightsOncePerBatch) {
  const ZooModel model = ZooModel::Read(ZooPath("resnet50"));
  const double b1 = model.BytesMoved(1), b2 = model.BytesMoved(2), b4 = model.BytesMoved(4);
  EXPECT_NEAR(b4 - b2, 2 * (b2 - b1), 1);  // linear in the batch
  EXPECT_GT(b1, 2.0 * model.params());     // at least the fp16 weights
}

std::string WriteTemp(const std::string& text) {
  const std::string path = ::testing::TempDir() + "/zoo_bad.json";
  std::ofstream(path) << text;
  return path;
}

void ExpectError(const std::string& text, const std::string& expected) {
  const std::string path = WriteTemp(text);
  try {
    ZooModel::Read(path);
    FAIL() << "no error for " << text;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Zoo, BadFilesNameTheJsonPath) {
  const std::string head = R"({"name": "m", "input": {"channels": 3, "height": 8, "width": 8}, "ops": [)";
  ExpectError(head + R"({"op": "conv", "out": 4, "kernel": 3}, {"op": "warp"}]})", "/ops/1/op: unknown operation 'warp'");
  ExpectError(head + R"({"op": "add", "to": "x"}]})", "/ops/0/to: no tensor named 'x'");
  ExpectError(head + R"({"op": "save", "name": "x"}, {"op": "conv", "out": 4, "kernel": 1}, {"op": "add", "to": "x"}]})",
              "/ops/2/to: shape 3x8x8 differs from the current 4x8x8");
  ExpectError(head + R"({"op": "conv", "out": 4, "kernel": 3, "groups": 2}]})", "/ops/0/groups: 2 groups do not divide 3");
  ExpectError(head + R"({"op": "conv", "out": 4, "kernel": 3, "act": "swish"}]})", "/ops/0/act: unknown activation");
  ExpectError(head + R"({"op": "conv", "out": 4, "kernal": 3}]})", "/ops/0");
  ExpectError(head + R"({"op": "conv", "out": 4, "kernel": 9}]})", "/ops/0/kernel: larger than its padded input");
  ExpectError(head + R"({"op": "embedding", "tables": [10], "dim": 4}]})", "embedding reads the token ids");
}

}  // namespace
}  // namespace gpuslice
