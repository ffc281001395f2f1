// Engine: the discrete-event loop. It owns the clock and the pending events and knows
// nothing about GPUs, requests or policies: models plug in as EventHandlers.
//
// Guarantees:
//  - time never goes backwards: an event may not be scheduled before Now();
//  - events at the same instant run in the order they were scheduled;
//  - nothing is cancelled: a handler that no longer wants an event ignores it, typically by
//    comparing a generation number carried in the tag with its current one.
//
// Not thread-safe; one Engine per simulated run.
#ifndef GPUSLICE_SIM_ENGINE_ENGINE_H_
#define GPUSLICE_SIM_ENGINE_ENGINE_H_

#include <cstdint>

#include "sim/engine/event_queue.h"
#include "sim/engine/time.h"

namespace gpuslice {

class EventHandler {
 public:
  // Called when an event scheduled for this handler comes due. `now` equals Engine::Now().
  virtual void OnEvent(SimTime now, uint64_t tag) = 0;

 protected:
  ~EventHandler() = default;
};

class RealTime;

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SimTime Now() const { return now_; }

  // REQUIRES: at >= Now(); handler outlives the event.
  void Schedule(SimTime at, EventHandler* handler, uint64_t tag = 0);
  // REQUIRES: delay >= 0. A delay past the end of time schedules at kForever (never run
  // before a run's limit) instead of overflowing.
  void ScheduleAfter(SimTime delay, EventHandler* handler, uint64_t tag = 0) {
    Schedule(delay >= kForever - now_ ? kForever : now_ + delay, handler, tag);
  }

  // Runs events in order until none is left, Stop() is called from a handler, or the next
  // event lies after `until` (the clock then stands at `until`). Returns the number of events
  // run by this call.
  uint64_t Run(SimTime until = kForever);

  // Makes Run() return after the current event (or at once, if called before Run()).
  void Stop() { stop_requested_ = true; }

  // Runs events as the wall clock reaches them and takes events posted from other threads
  // (sim/engine/real_time.h); Run() then also waits for every expected event. nullptr: the
  // plain discrete-event loop. REQUIRES: `real_time` outlives the runs.
  void SetRealTime(RealTime* real_time) { real_time_ = real_time; }

  size_t pending() const { return queue_.size(); }
  uint64_t events_run() const { return events_run_; }
  void ReservePending(size_t n) { queue_.Reserve(n); }

 private:
  EventQueue queue_;
  SimTime now_ = 0;
  uint64_t events_run_ = 0;
  bool stop_requested_ = false;
  RealTime* real_time_ = nullptr;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_ENGINE_H_
