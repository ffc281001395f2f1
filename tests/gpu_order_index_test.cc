// GpuOrderIndex against the full stable sort it replaces, on random states: keys drawn from
// few values (many ties), GPUs joining and leaving the filtered set, changes marked dirty
// between refreshes; and the snapshot order while GPUs change during an iteration. Also
// the cluster's empty-GPU set and change listener that has-gpu's index is built on.
#include "sim/policies/gpu_order_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "sim/cluster/cluster.h"
#include "sim/scenario.h"

namespace gpuslice {
namespace {

// The brute-force reference: every member GPU, stable-sorted by key (has-gpu's old code).
std::vector<int> FullSort(const std::vector<double>& key, const std::vector<bool>& member) {
  std::vector<int> out;
  for (int g = 0; g < static_cast<int>(key.size()); ++g) {
    if (member[static_cast<size_t>(g)]) out.push_back(g);
  }
  std::stable_sort(out.begin(), out.end(), [&](int a, int b) { return key[size_t(a)] < key[size_t(b)]; });
  return out;
}

std::vector<int> Order(const GpuOrderIndex& index) {
  std::vector<int> out;
  for (const auto& entry : index) out.push_back(entry.second);
  return out;
}

TEST(GpuOrderIndex, MatchesStableSortOnRandomStates) {
  for (int seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const int n = 1 + static_cast<int>(rng() % 300);
    std::vector<double> key(static_cast<size_t>(n));
    std::vector<bool> member(static_cast<size_t>(n));
    auto draw_key = [&] { return seed % 2 ? static_cast<double>(rng() % 4) : (rng() % 1000) / 997.0; };
    for (int g = 0; g < n; ++g) key[size_t(g)] = draw_key(), member[size_t(g)] = rng() % 3 != 0;
    GpuOrderIndex index(n, [&](int g) { return key[size_t(g)]; }, [&](int g) { return bool(member[size_t(g)]); });
    index.Refresh();
    ASSERT_EQ(Order(index), FullSort(key, member)) << "seed " << seed;
    for (int round = 0; round < 200; ++round) {
      const int changes = static_cast<int>(rng() % 8);
      for (int c = 0; c < changes; ++c) {
        const int g = static_cast<int>(rng() % static_cast<uint64_t>(n));
        if (rng() % 4 == 0) member[size_t(g)] = !member[size_t(g)];
        key[size_t(g)] = draw_key();
        index.MarkDirty(g);
        if (rng() % 2) index.MarkDirty(g);  // marked twice: filed once
      }
      index.Refresh();
      ASSERT_EQ(Order(index), FullSort(key, member)) << "seed " << seed << " round " << round;
      ASSERT_EQ(index.size(), FullSort(key, member).size());
    }
  }
}

TEST(GpuOrderIndex, IterationIsASnapshotUntilRefresh) {
  std::vector<double> key{3, 1, 2, 1, 0};
  std::vector<bool> member(5, true);
  GpuOrderIndex index(5, [&](int g) { return key[size_t(g)]; }, [&](int g) { return bool(member[size_t(g)]); });
  index.Refresh();
  const std::vector<int> before = FullSort(key, member);
  std::vector<int> seen;
  for (const auto& entry : index) {
    seen.push_back(entry.second);
    key[size_t(entry.second)] += 10;  // changes while walking, as a scale-up pass does
    member[4] = false;
    index.MarkDirty(entry.second);
    index.MarkDirty(4);
  }
  EXPECT_EQ(seen, before);
  index.Refresh();
  EXPECT_EQ(Order(index), FullSort(key, member));
}

TEST(ClusterIndex, EmptyGpusAndListenerFollowSlices) {
  Scenario scenario;
  scenario.node_groups.push_back(NodeGroup{});
  scenario.node_groups.back().count = 3;
  scenario.node_groups.back().gpus_per_node = 2;
  scenario.node_groups.back().gpu = FindGpuSpec("V100-16GB");
  ASSERT_NE(scenario.node_groups.back().gpu, nullptr);
  scenario.models.resize(1);
  Cluster cluster(scenario);
  std::vector<int> changed;
  cluster.AddGpuListener([&](int g) { changed.push_back(g); });
  std::mt19937_64 rng(7);
  std::vector<int> live;
  for (int step = 0; step < 2000; ++step) {
    std::string why;
    if (live.empty() || rng() % 2) {
      const int g = static_cast<int>(rng() % 6);
      const int id = cluster.AllocateSlice(SliceRequest{g, -1, 16, 0.5, 1000, 0}, 0, &why);
      if (id >= 0) {
        live.push_back(id);
        ASSERT_EQ(changed.back(), g);
      }
    } else if (rng() % 3 == 0) {
      const int id = live[rng() % live.size()];
      const size_t before = changed.size();
      if (cluster.SetQuota(id, 0.25, 0, &why)) ASSERT_EQ(changed.size(), before + 1);
    } else {
      const size_t k = rng() % live.size();
      const int g = cluster.slice(live[k]).gpu;
      cluster.FreeSlice(live[k], 0);
      live.erase(live.begin() + static_cast<long>(k));
      ASSERT_EQ(changed.back(), g);
    }
    int first_empty = -1;  // the old scan
    for (int g = 0; g < cluster.gpu_count(); ++g) {
      if (cluster.gpu(g).empty()) {
        first_empty = g;
        break;
      }
    }
    ASSERT_EQ(cluster.FirstEmptyGpu(), first_empty);
    ASSERT_EQ(cluster.CheckInvariants(), "");
  }
}

}  // namespace
}  // namespace gpuslice
