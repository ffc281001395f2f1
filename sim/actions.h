// ActionLog: every scaling and placement action of a run, in time order, for the output's
// `actions` table. Its size grows with the number of actions, not of requests.
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

class ActionLog {
 public:
  void Add(Action a) { actions_.push_back(std::move(a)); }
  const std::vector<Action>& actions() const { return actions_; }

 private:
  std::vector<Action> actions_;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_ACTIONS_H_
