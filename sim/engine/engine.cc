#include "sim/engine/engine.h"

#include "sim/engine/real_time.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gpuslice {

void Engine::Schedule(SimTime at, EventHandler* handler, uint64_t tag) {
  if (at < now_) {
    throw std::logic_error("Engine::Schedule: event at " + std::to_string(at) +
                           " ns is before the clock (" + std::to_string(now_) + " ns)");
  }
  queue_.Push(at, handler, tag);
}

uint64_t Engine::Run(SimTime until) {
  uint64_t ran = 0;
  while (real_time_ != nullptr && !stop_requested_) {
    const SimTime next = std::min(queue_.empty() ? kForever : queue_.top().time, until);
    if (queue_.empty() && real_time_->outstanding() == 0) break;
    real_time_->WaitUntil(next, now_, [&](SimTime at, EventHandler* handler, uint64_t tag) {
      queue_.Push(at, handler, tag);
    });
    if (queue_.empty()) continue;
    if (queue_.top().time > until) {
      now_ = until;
      break;
    }
    if (queue_.top().time > real_time_->Now()) continue;  // woken early; nothing is due yet
    Event e = queue_.Pop();
    now_ = e.time;
    e.handler->OnEvent(now_, e.tag);
    ++ran;
  }
  while (real_time_ == nullptr && !queue_.empty() && !stop_requested_) {
    if (queue_.top().time > until) {
      now_ = until;
      break;
    }
    Event e = queue_.Pop();
    now_ = e.time;
    e.handler->OnEvent(now_, e.tag);
    ++ran;
  }
  stop_requested_ = false;
  events_run_ += ran;
  return ran;
}

}  // namespace gpuslice
