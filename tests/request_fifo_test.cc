// RequestFifo against its definition, a FIFO: a std::deque driven by the same random pushes
// and pops (single and several at once) must agree on size, front and the oldest n, through
// growth past the kept capacity and shrinking back, and after Release.
#include <deque>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "sim/cluster/instance.h"

namespace gpuslice {
namespace {

Request Numbered(uint64_t id) { return Request{id, static_cast<SimTime>(id), 0, 0, 0, -1, -1}; }

TEST(RequestFifo, AgreesWithADequeOnRandomPushesAndPops) {
  std::mt19937_64 rng(5);
  RequestFifo fifo;
  std::deque<uint64_t> model;
  uint64_t next = 0;
  for (int phase = 0; phase < 40; ++phase) {
    // Phases lean to pushes or to pops, so the queue grows to thousands and drains again.
    const bool growing = phase % 2 == 0;
    for (int step = 0; step < 3000; ++step) {
      const bool push = model.empty() || (rng() % 100) < (growing ? 70u : 30u);
      if (push) {
        fifo.push_back(Numbered(next));
        model.push_back(next++);
      } else {
        const size_t n = 1 + rng() % std::min<size_t>(model.size(), 8);
        std::vector<Request> oldest;
        fifo.CopyFront(n, &oldest);
        ASSERT_EQ(oldest.size(), n);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(oldest[i].id, model[i]);
        fifo.pop_front(n);
        model.erase(model.begin(), model.begin() + static_cast<long>(n));
      }
      ASSERT_EQ(fifo.size(), model.size());
      ASSERT_EQ(fifo.empty(), model.empty());
      if (!model.empty()) {
        ASSERT_EQ(fifo.front().id, model.front());
      }
    }
  }
  fifo.pop_front(fifo.size());
  fifo.Release();
  EXPECT_TRUE(fifo.empty());
  fifo.push_back(Numbered(7));  // usable again after Release
  EXPECT_EQ(fifo.front().id, 7u);
}

}  // namespace
}  // namespace gpuslice
