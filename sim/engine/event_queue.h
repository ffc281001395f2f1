// EventQueue: the pending events of a simulation, ordered by (time, sequence number).
//
// The sequence number is assigned at insertion, so events scheduled for the same instant
// pop in the order they were scheduled: the engine is deterministic without any help from
// its users.
//
// A discrete-event simulation only ever schedules at or after the current time, so the
// queue is monotone: no key pushed is smaller than the last key popped. That allows a radix
// heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) over the 128-bit key (time, seq): bucket i
// holds the events whose key first differs from the last popped key at bit i-1. A push is
// O(1); a pop refills bucket 0 from the lowest non-empty bucket, and each event moves down
// at most a few times in its life. Unlike a binary heap it touches memory sequentially,
// which is what keeps it fast at millions of pending events.
//
// REQUIRES of every Push: time >= the time of the last event popped. (A push earlier than
// an event that top() has shown but Pop() has not yet removed is allowed; it costs a
// rebuild, O(pending), and happens only when Engine::Run stops at an `until`.)
// Not thread-safe.
#ifndef GPUSLICE_SIM_ENGINE_EVENT_QUEUE_H_
#define GPUSLICE_SIM_ENGINE_EVENT_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

class EventHandler;

struct Event {
  SimTime time;
  uint64_t seq;
  EventHandler* handler;
  uint64_t tag;  // opaque to the engine; handlers use it to tell their events apart
};

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The earliest event. REQUIRES: !empty().
  const Event& top() {
    if (buckets_[0].empty()) Refill();
    return buckets_[0].back();
  }

  // REQUIRES: time >= the time of the last event popped.
  void Push(SimTime time, EventHandler* handler, uint64_t tag) {
    Event e{time, next_seq_++, handler, tag};
    if (time < last_time_) Rebase(e);
    Place(e);
    ++size_;
  }

  // Removes and returns the earliest event. REQUIRES: !empty().
  Event Pop() {
    if (buckets_[0].empty()) Refill();
    Event e = buckets_[0].back();
    buckets_[0].pop_back();
    if (buckets_[0].empty()) MarkEmpty(0);
    --size_;
    return e;
  }

  void Reserve(size_t n) { buckets_[kBuckets - 1].reserve(n); }

 private:
  static constexpr size_t kBuckets = 129;

  static bool Before(const Event& a, const Event& b) {
    return (a.time < b.time) | ((a.time == b.time) & (a.seq < b.seq));
  }

  // 0 if the key equals the last popped key, else 1 + the index of the highest bit in which
  // they differ (the key is time in the high 64 bits, seq in the low 64).
  size_t BucketOf(const Event& e) const {
    const uint64_t hi = static_cast<uint64_t>(e.time) ^ static_cast<uint64_t>(last_time_);
    if (hi != 0) return 128 - static_cast<size_t>(__builtin_clzll(hi));
    const uint64_t lo = e.seq ^ last_seq_;
    return lo == 0 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(lo));
  }

  void Place(const Event& e) {
    const size_t b = BucketOf(e);
    buckets_[b].push_back(e);
    nonempty_[b >> 6] |= uint64_t{1} << (b & 63);
  }
  void MarkEmpty(size_t b) { nonempty_[b >> 6] &= ~(uint64_t{1} << (b & 63)); }
  size_t LowestNonEmpty() const {
    for (size_t w = 0;; ++w) {
      if (nonempty_[w] != 0) return w * 64 + static_cast<size_t>(__builtin_ctzll(nonempty_[w]));
    }
  }

  // Moves the minimum of the lowest non-empty bucket to bucket 0, redistributing the rest.
  void Refill() {
    const size_t i = LowestNonEmpty();
    std::vector<Event>& from = buckets_[i];
    size_t best = 0;
    for (size_t k = 1; k < from.size(); ++k) {
      if (Before(from[k], from[best])) best = k;
    }
    last_time_ = from[best].time;
    last_seq_ = from[best].seq;
    for (const Event& e : from) Place(e);
    from.clear();
    MarkEmpty(i);
  }

  // Re-buckets everything relative to `e`, the new minimum (see the class comment).
  void Rebase(const Event& e) {
    std::vector<Event> all;
    all.reserve(size_);
    for (std::vector<Event>& b : buckets_) {
      all.insert(all.end(), b.begin(), b.end());
      b.clear();
    }
    nonempty_ = {0, 0, 0};
    last_time_ = e.time;
    last_seq_ = e.seq;
    for (const Event& x : all) Place(x);
  }

  std::array<std::vector<Event>, kBuckets> buckets_;
  std::array<uint64_t, 3> nonempty_{0, 0, 0};  // bit b set iff buckets_[b] is not empty
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
  SimTime last_time_ = 0;
  uint64_t last_seq_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ENGINE_EVENT_QUEUE_H_
