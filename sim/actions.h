// ActionLog: every scaling and placement action of a run, in time order, for the output's
// `actions` table: streamed to a sink, kept in memory, or both.
#ifndef GPUSLICE_SIM_ACTIONS_H_
#define GPUSLICE_SIM_ACTIONS_H_

#include <cstdint>
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
  // Refused actions are counted instead of written or kept (the scenario's output.refusals
  // "count"): at thousands of models a starved model is refused on every control tick, and
  // those refusals would be most of the log. `models`: how many models to count for.
  void CountRefusals(size_t models) {
    count_refusals_ = true;
    refused_by_model_.assign(models, 0);
  }
  // The scenario's mode: refusals logged (true), or counted for the summary.
  bool logs_refusals() const { return !count_refusals_; }
  // Whether an action added now goes anywhere: a sink, or the log kept in memory. A run
  // without (--no-output) drops every action, so a policy need not format one.
  bool recording() const { return sink_ != nullptr || keep_; }
  // Whether a refused action added now would be written or kept. When not (refusals
  // counted, or nothing recorded), a policy may skip an attempt it knows the cluster would
  // refuse and call CountRefusal instead: the simulation is the same, and the count is what
  // the summary reports in the "count" mode.
  bool records_refusals() const { return !count_refusals_ && recording(); }

  void Add(Action a) {
    if (a.kind == "refused" && !records_refusals()) {
      CountRefusal(a.model);
      return;
    }
    if (!recording()) return;
    if (sink_ != nullptr) sink_->Write(a);
    if (keep_) actions_.push_back(std::move(a));
  }
  // One refusal of `model` (-1: of no one model), counted whatever the mode; for a policy
  // that, when refusals are counted, skips the attempt it knows would be refused.
  void CountRefusal(int model) {
    ++refused_;
    if (model >= 0 && static_cast<size_t>(model) < refused_by_model_.size()) ++refused_by_model_[static_cast<size_t>(model)];
  }
  const std::vector<Action>& actions() const { return actions_; }
  // The refusals counted (not written) so far; by model when CountRefusals was called.
  uint64_t refused() const { return refused_; }
  const std::vector<uint64_t>& refused_by_model() const { return refused_by_model_; }

 private:
  std::vector<Action> actions_;
  ActionSink* sink_ = nullptr;
  bool keep_ = true;
  bool count_refusals_ = false;
  uint64_t refused_ = 0;
  std::vector<uint64_t> refused_by_model_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ACTIONS_H_
