// Policy: how GPUs are allocated to models. One class per policy, in sim/policies/, registered
// by name with GPUSLICE_REGISTER_POLICY; a scenario picks it by that name and passes it its
// own typed config.
//
// The simulation calls a policy on each arrival (route, buffer or drop the request), when an
// instance becomes ready, when a batch completes and when an instance is gone; a policy
// that wants a control tick schedules it on the engine itself. It acts only through the
// Executor (instances, requests) and reads the Cluster; the cluster refuses any action that
// would break an invariant, so a policy cannot corrupt the state, only fail to act.
//
// To add a policy: write sim/policies/<name>.{h,cc} with a class derived from Policy, read
// its config in its constructor from the JsonObject (rejecting unknown keys), and put
// GPUSLICE_REGISTER_POLICY("<name>", ClassName) in the .cc. CMake picks the file up.
#ifndef GPUSLICE_SIM_POLICIES_POLICY_H_
#define GPUSLICE_SIM_POLICIES_POLICY_H_

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "gpu/predictor.h"
#include "sim/actions.h"
#include "sim/cluster/cluster.h"
#include "sim/engine/engine.h"
#include "sim/executor.h"
#include "sim/scenario.h"
#include "sim/util/json_reader.h"

namespace gpuslice {

// What a running policy may use. Valid for the whole run.
struct PolicyContext {
  Engine& engine;
  Cluster& cluster;
  Executor& executor;
  const Scenario& scenario;
  ActionLog& actions;
};

class Policy : public ExecutorListener {
 public:
  virtual ~Policy() = default;

  // Called once at time 0, before the first arrival: initial placement, first tick.
  virtual void Start(PolicyContext& ctx) = 0;
  // A new request: the policy must Route, Buffer or Drop it through the executor.
  virtual void OnArrival(const Request& request) = 0;
};

// Reads a policy's "predictor" key: a name ("oracle", "profile", "learned") or an object
// {"name": "profile", "sm_stride": 4, "quota_stride": 2}. Default: `fallback`.
PredictorSpec ReadPredictorSpec(const JsonObject& config, const std::string& fallback);

class PolicyRegistry {
 public:
  // Builds a policy from its config; throws InputError on a bad config.
  using Factory = std::function<std::unique_ptr<Policy>(const JsonObject& config, const Scenario& scenario)>;

  static bool Register(const std::string& name, Factory factory);
  static bool Has(const std::string& name);
  // Registered names, comma-separated, sorted.
  static std::string Names();
  // `config` is the scenario's entry for this run (its "policy" key is ignored); `pointer`
  // is its JSON path, for errors. Throws InputError.
  static std::unique_ptr<Policy> Create(const std::string& name, const std::string& file,
                                        const nlohmann::ordered_json& config, const std::string& pointer,
                                        const Scenario& scenario);
  static void Validate(const std::string& name, const std::string& file, const nlohmann::ordered_json& config,
                       const std::string& pointer, const Scenario& scenario) {
    Resolve(name, file, config, pointer, scenario);
  }
  // Validates `config` like Create and returns it with every default the policy took filled
  // in (JsonObject::WithDefaults), without its "policy" key: the config that runs.
  static nlohmann::ordered_json Resolve(const std::string& name, const std::string& file,
                                        const nlohmann::ordered_json& config, const std::string& pointer,
                                        const Scenario& scenario);
};

#define GPUSLICE_REGISTER_POLICY(name, Class)                                                  \
  static const bool gpuslice_registered_##Class = ::gpuslice::PolicyRegistry::Register(        \
      name, [](const ::gpuslice::JsonObject& config, const ::gpuslice::Scenario& scenario) {   \
        return std::unique_ptr<::gpuslice::Policy>(new Class(config, scenario));               \
      })

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_POLICIES_POLICY_H_
