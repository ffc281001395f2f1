#include "sim/policies/policy.h"

#include <map>

namespace gpuslice {
namespace {

std::map<std::string, PolicyRegistry::Factory>& Registry() {
  static std::map<std::string, PolicyRegistry::Factory> registry;
  return registry;
}

}  // namespace

PredictorSpec ReadPredictorSpec(const JsonObject& config, const std::string& fallback) {
  PredictorSpec spec;
  spec.name = fallback;
  if (!config.Has("predictor")) {
    config.String("predictor", fallback);
    return spec;
  }
  const auto& value = config.Value("predictor");
  if (value.is_string()) {
    spec.name = value.get<std::string>();
  } else {
    JsonObject p = config.Object("predictor");
    spec.name = p.String("name");
    spec.sm_stride = static_cast<int>(p.IntegerIn("sm_stride", spec.sm_stride, 1, 1000));
    spec.quota_stride = static_cast<int>(p.IntegerIn("quota_stride", spec.quota_stride, 1, 1000));
    p.RejectUnknownKeys();
  }
  if (!IsPredictorName(spec.name)) {
    throw config.Error("predictor", "unknown predictor '" + spec.name + "' (" + PredictorNames() + ")");
  }
  return spec;
}

bool PolicyRegistry::Register(const std::string& name, Factory factory) {
  return Registry().emplace(name, std::move(factory)).second;
}

bool PolicyRegistry::Has(const std::string& name) { return Registry().count(name) > 0; }

std::string PolicyRegistry::Names() {
  std::string names;
  for (const auto& [name, factory] : Registry()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

namespace {

std::unique_ptr<Policy> CreateWithReader(const std::string& name, const JsonObject& reader, const Scenario& scenario) {
  auto it = Registry().find(name);
  if (it == Registry().end()) throw InputError("unknown policy '" + name + "' (known: " + PolicyRegistry::Names() + ")");
  reader.String("policy", name);
  std::unique_ptr<Policy> policy = it->second(reader, scenario);
  reader.RejectUnknownKeys();
  return policy;
}

const nlohmann::ordered_json& ObjectOrEmpty(const nlohmann::ordered_json& config) {
  static const nlohmann::ordered_json empty = nlohmann::ordered_json::object();
  return config.is_null() ? empty : config;
}

}  // namespace

std::unique_ptr<Policy> PolicyRegistry::Create(const std::string& name, const std::string& file,
                                               const nlohmann::ordered_json& config, const std::string& pointer,
                                               const Scenario& scenario) {
  return CreateWithReader(name, JsonObject(file, ObjectOrEmpty(config), pointer), scenario);
}

nlohmann::ordered_json PolicyRegistry::Resolve(const std::string& name, const std::string& file,
                                               const nlohmann::ordered_json& config, const std::string& pointer,
                                               const Scenario& scenario) {
  JsonObject reader(file, ObjectOrEmpty(config), pointer);
  CreateWithReader(name, reader, scenario);
  nlohmann::ordered_json resolved = reader.WithDefaults();
  resolved.erase("policy");
  return resolved;
}

}  // namespace gpuslice
