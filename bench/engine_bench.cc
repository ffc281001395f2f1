// The event engine under the classic hold model: N events pending; each event, when it
// runs, schedules one more at an exponentially distributed delay, so the queue stays at N.
// Reports events per second at N = 1K, 100K and 1M.
#include <vector>

#include <benchmark/benchmark.h>

#include "sim/engine/engine.h"
#include "sim/engine/rng.h"

namespace gpuslice {
namespace {

class HoldHandler final : public EventHandler {
 public:
  explicit HoldHandler(Engine& engine) : engine_(engine), gaps_(1 << 16) {
    RngStream rng(1, "bench/hold");
    for (SimTime& g : gaps_) g = static_cast<SimTime>(rng.Exponential(1e6));
  }
  void OnEvent(SimTime now, uint64_t) override {
    engine_.Schedule(now + gaps_[next_++ & (gaps_.size() - 1)], this);
    if (--budget_ == 0) engine_.Stop();
  }
  void SetBudget(uint64_t n) { budget_ = n; }
  SimTime Gap() { return gaps_[next_++ & (gaps_.size() - 1)]; }

 private:
  Engine& engine_;
  std::vector<SimTime> gaps_;
  size_t next_ = 0;
  uint64_t budget_ = 0;
};

void BM_HoldModel(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  Engine engine;
  HoldHandler handler(engine);
  engine.ReservePending(pending + 1);
  for (size_t i = 0; i < pending; ++i) engine.Schedule(handler.Gap(), &handler);
  constexpr uint64_t kBatch = 100000;
  for (auto _ : state) {
    handler.SetBudget(kBatch);
    engine.Run();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["pending"] = static_cast<double>(engine.pending());
}

BENCHMARK(BM_HoldModel)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuslice
