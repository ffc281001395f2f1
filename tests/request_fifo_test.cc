// RequestFifo against its definition, a FIFO: a std::deque driven by the same random pushes
// and pops (single and several at once) must agree on size, front, the oldest n and the
// order of all, while queues grow to thousands and drain again. Its memory against the bound
// the header promises: a FIFO of n requests spans at most ceil(n / kBlockRequests) + 1
// blocks, an empty one none, and blocks given back serve the next FIFO that grows.
#include <deque>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "sim/cluster/request_fifo.h"

namespace gpuslice {
namespace {

Request Numbered(uint64_t id) { return Request{id, static_cast<SimTime>(id), 0, 0, 0, -1, -1}; }

size_t MostBlocks(size_t n) { return (n + kBlockRequests - 1) / kBlockRequests + 1; }

TEST(RequestFifo, AgreesWithADequeOnRandomPushesAndPops) {
  std::mt19937_64 rng(5);
  RequestBlockPool pool;
  RequestFifo fifo;
  std::deque<uint64_t> model;
  uint64_t next = 0;
  for (int phase = 0; phase < 40; ++phase) {
    // Phases lean to pushes (pops of 1 or 2: the queue gains about 750 a phase) or to pops
    // (of up to 40, 2.5 blocks), so the queue grows to hundreds and drains again.
    const bool growing = phase % 2 == 0;
    for (int step = 0; step < 3000; ++step) {
      const bool push = model.empty() || (rng() % 100) < (growing ? 70u : 30u);
      if (push) {
        fifo.push_back(Numbered(next), pool);
        model.push_back(next++);
      } else {
        const size_t n = 1 + rng() % std::min<size_t>(model.size(), growing ? 2 : 40);
        std::vector<Request> oldest;
        fifo.CopyFront(n, &oldest);
        ASSERT_EQ(oldest.size(), n);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(oldest[i].id, model[i]);
        fifo.pop_front(pool, n);
        model.erase(model.begin(), model.begin() + static_cast<long>(n));
      }
      ASSERT_EQ(fifo.size(), model.size());
      ASSERT_EQ(fifo.empty(), model.empty());
      ASSERT_LE(pool.blocks_in_use(), MostBlocks(model.size()));
      if (model.empty()) {
        ASSERT_EQ(pool.blocks_in_use(), 0u);
      } else {
        ASSERT_EQ(fifo.front().id, model.front());
      }
    }
    std::vector<uint64_t> all;
    fifo.ForEach([&](const Request& r) { all.push_back(r.id); });
    ASSERT_EQ(all, std::vector<uint64_t>(model.begin(), model.end()));
  }
  fifo.pop_front(pool, fifo.size());
  EXPECT_TRUE(fifo.empty());
  EXPECT_EQ(pool.blocks_in_use(), 0u);
  fifo.push_back(Numbered(7), pool);  // usable again once empty
  EXPECT_EQ(fifo.front().id, 7u);
}

TEST(RequestFifo, PoolHoldsTheMostQueuedAtOnceNotTheTotalEverQueued) {
  // 200 FIFOs, each filled to 100 requests and drained, one after another: 20,000 requests
  // pass through, 100 at a time. 100 requests span at most ceil(100/16) + 1 = 8 blocks, so
  // the pool never carves more than one 64-block slab.
  RequestBlockPool pool;
  std::vector<RequestFifo> fifos(200);
  uint64_t next = 0;
  for (RequestFifo& f : fifos) {
    for (int i = 0; i < 100; ++i) f.push_back(Numbered(next++), pool);
    EXPECT_LE(pool.blocks_in_use(), MostBlocks(100));
    while (!f.empty()) f.pop_front(pool);
  }
  EXPECT_EQ(pool.blocks_in_use(), 0u);
  EXPECT_LE(pool.blocks_allocated(), 64u);
}

TEST(RequestFifo, MovedFromIsEmptyAndTheMovedToKeepsTheRequests) {
  RequestBlockPool pool;
  RequestFifo a;
  for (uint64_t i = 0; i < 20; ++i) a.push_back(Numbered(i), pool);
  RequestFifo b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  ASSERT_EQ(b.size(), 20u);
  std::vector<Request> oldest;
  b.CopyFront(20, &oldest);
  for (uint64_t i = 0; i < 20; ++i) EXPECT_EQ(oldest[i].id, i);
  b.pop_front(pool, 20);
  EXPECT_EQ(pool.blocks_in_use(), 0u);
}

}  // namespace
}  // namespace gpuslice
