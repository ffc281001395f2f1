// PrefetchedStream against reading its source directly: the same arrivals in the same
// order across many blocks, the source read up to and including the first arrival at or
// past the cutoff and no further, an error rethrown after the arrivals before it, and a
// stream stopped half-read (the run interrupted) returning without hanging.
#include "traces/prefetched_stream.h"

#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace gpuslice {
namespace {

// Arrivals at times 0, 1, 2, ... (function = the time); throws at `throw_at` if >= 0.
// Counts the calls to Next, as a trace reader counts the rows it read.
class CountingStream final : public ArrivalStream {
 public:
  CountingStream(int64_t count, int64_t throw_at = -1) : count_(count), throw_at_(throw_at) {}
  bool Next(Arrival* out) override {
    ++calls_;
    if (next_ == throw_at_) throw std::runtime_error("bad row " + std::to_string(next_));
    if (next_ == count_) return false;
    *out = Arrival{next_, static_cast<int32_t>(next_ % 1000)};
    ++next_;
    return true;
  }
  int64_t calls() const { return calls_; }

 private:
  int64_t count_, throw_at_, next_ = 0, calls_ = 0;
};

TEST(PrefetchedStream, HandsOutEveryArrivalInOrderAcrossBlocks) {
  // 50,000 arrivals: twelve blocks of 4,096 and a partial one.
  CountingStream source(50'000);
  PrefetchedStream prefetched(source, kForever);
  Arrival a;
  for (int64_t i = 0; i < 50'000; ++i) {
    ASSERT_TRUE(prefetched.Next(&a)) << i;
    ASSERT_EQ(a.time, i);
    ASSERT_EQ(a.function, i % 1000);
  }
  EXPECT_FALSE(prefetched.Next(&a));
  EXPECT_FALSE(prefetched.Next(&a));  // stays exhausted
  prefetched.Stop();
  EXPECT_EQ(source.calls(), 50'001);  // the last call said "no more", as for a direct reader
}

TEST(PrefetchedStream, StopsReadingAtTheFirstArrivalPastTheCutoff) {
  // Cutoff 10,000: a direct reader takes arrivals 0..10,000 (the last one at the cutoff,
  // which it does not simulate) and stops: 10,001 calls.
  CountingStream source(1'000'000);
  PrefetchedStream prefetched(source, 10'000);
  Arrival a;
  int64_t n = 0;
  while (prefetched.Next(&a)) {
    ASSERT_EQ(a.time, n);
    ++n;
  }
  EXPECT_EQ(n, 10'001);
  prefetched.Stop();
  EXPECT_EQ(source.calls(), 10'001);
}

TEST(PrefetchedStream, RethrowsAnErrorWhereItOccurred) {
  CountingStream source(100'000, 9'000);
  PrefetchedStream prefetched(source, kForever);
  Arrival a;
  for (int64_t i = 0; i < 9'000; ++i) ASSERT_TRUE(prefetched.Next(&a)) << i;
  try {
    prefetched.Next(&a);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "bad row 9000");
  }
}

TEST(PrefetchedStream, StopsWhenAbandonedHalfRead) {
  // The reader fills its four blocks and waits; Stop (here, the destructor) must end it.
  CountingStream source(10'000'000);
  {
    PrefetchedStream prefetched(source, kForever);
    Arrival a;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(prefetched.Next(&a));
  }
  EXPECT_LT(source.calls(), 10'000'000);
}

}  // namespace
}  // namespace gpuslice
