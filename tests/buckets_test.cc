// Buckets against a direct scan: for every key, the values added with it, in the order
// they were added (the order a scan of the source would visit them in).
#include "sim/util/buckets.h"

#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

TEST(Buckets, GroupsByKeyInInsertionOrder) {
  Buckets<int> b;
  b.Build(4, {{2, 10}, {0, 11}, {2, 12}, {3, 13}, {2, 14}});
  EXPECT_EQ(std::vector<int>(b[0].begin(), b[0].end()), std::vector<int>({11}));
  EXPECT_TRUE(b[1].empty());
  EXPECT_EQ(std::vector<int>(b[2].begin(), b[2].end()), std::vector<int>({10, 12, 14}));
  EXPECT_EQ(std::vector<int>(b[3].begin(), b[3].end()), std::vector<int>({13}));
  EXPECT_TRUE(b[4].empty());  // beyond the keys
  EXPECT_TRUE(Buckets<int>()[0].empty());  // never built
}

TEST(Buckets, RebuildForgetsThePreviousValues) {
  Buckets<int> b;
  b.Build(3, {{0, 1}, {1, 2}, {2, 3}});
  b.Build(2, {{1, 7}});
  EXPECT_TRUE(b[0].empty());
  EXPECT_EQ(b[1].size(), 1u);
  EXPECT_EQ(b[1][0], 7);
  EXPECT_TRUE(b[2].empty());
}

TEST(Buckets, MatchesAScanOnRandomInput) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    const size_t keys = 1 + rng() % 50;
    std::vector<std::pair<uint32_t, int>> keyed;
    for (int i = 0; i < static_cast<int>(rng() % 500); ++i) keyed.push_back({static_cast<uint32_t>(rng() % keys), i});
    Buckets<int> b;
    b.Build(keys, keyed);
    for (size_t k = 0; k < keys; ++k) {
      std::vector<int> scan;
      for (const auto& [key, value] : keyed) {
        if (key == k) scan.push_back(value);
      }
      EXPECT_EQ(std::vector<int>(b[k].begin(), b[k].end()), scan) << "key " << k;
    }
  }
}

}  // namespace
}  // namespace gpuslice
