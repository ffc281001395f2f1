// ActionLog: every scaling and placement action of a run, in time order, for the output's
// `actions` table: streamed to a sink, kept in memory, or both.
#ifndef GPUSLICE_SIM_ACTIONS_H_
#define GPUSLICE_SIM_ACTIONS_H_

#include <string>
#include <vector>

#include "sim/engine/time.h"

namespace gpuslice {

struct Action {
  SimTime time;
  std::string kind;  // start, ready, drain, gone, resize, scale, refused, ...
  int model;         // -1 when not about one model
  int instance;      // -1 when not about one instance
  int gpu;           // -1 when not about one GPU
  int sm_count;
  double quota;
  std::string detail;
};

// Receives each action as it is taken (the HDF5 writer streams them to disk).
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  virtual void Write(const Action& action) = 0;
};

class ActionLog {
 public:
  // Actions go to `sink` when set, and are kept in memory (actions()) unless `keep` is false,
  // so that a long run's memory need not grow with its actions.
  void SetSink(ActionSink* sink, bool keep) {
    sink_ = sink;
    keep_ = keep;
  }
  void Add(Action a) {
    if (sink_ != nullptr) sink_->Write(a);
    if (keep_) actions_.push_back(std::move(a));
  }
  const std::vector<Action>& actions() const { return actions_; }

 private:
  std::vector<Action> actions_;
  ActionSink* sink_ = nullptr;
  bool keep_ = true;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ACTIONS_H_
