#include "sim/sweep_output.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "sim/hdf5_file.h"
#include "sim/output_writer.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

using Json = nlohmann::ordered_json;

// A grid parameter's column: numbers when every value is a number, else text.
void WriteParameterColumn(hid_t group, const std::string& name, const std::vector<const std::vector<Json>*>& rows,
                          size_t index) {
  bool numeric = true;
  for (const auto* values : rows) numeric = numeric && (*values)[index].is_number();
  if (numeric) {
    std::vector<double> column;
    for (const auto* values : rows) column.push_back((*values)[index].get<double>());
    h5::WriteColumn(group, name, column);
  } else {
    std::vector<std::string> column;
    for (const auto* values : rows) column.push_back(ParameterText((*values)[index]));
    h5::WriteStringColumn(group, name, column);
  }
}

void WriteTables(hid_t file, const SweepSpec& spec, const SweepTables& t) {
  h5::WriteStringAttribute(file, "gpuslice_version", GPUSLICE_VERSION);
  h5::WriteStringAttribute(file, "git_commit", GitCommit());
  h5::WriteStringAttribute(file, "spec", spec.json.dump());
  h5::WriteStringAttribute(file, "parameters", Json(t.parameters).dump());
  h5::WriteStringAttribute(file, "metrics", Json(t.metrics).dump());
  h5::WriteStringAttribute(file, "layout", "docs/sweeps.md");
  {
    h5::Handle g = h5::CreateGroup(file, "runs");
    std::vector<const std::vector<Json>*> values;
    std::vector<std::string> policy, key;
    std::vector<int64_t> seed;
    for (const auto& r : t.runs) {
      values.push_back(&r.values);
      policy.push_back(r.policy);
      key.push_back(r.key);
      seed.push_back(static_cast<int64_t>(r.seed));
    }
    for (size_t p = 0; p < t.parameters.size(); ++p) WriteParameterColumn(g.id(), t.parameters[p], values, p);
    h5::WriteStringColumn(g.id(), "policy", policy);
    h5::WriteColumn(g.id(), "seed", seed);
    h5::WriteStringColumn(g.id(), "key", key);
    for (size_t m = 0; m < t.metrics.size(); ++m) {
      std::vector<double> column;
      for (const auto& r : t.runs) column.push_back(r.metrics[m]);
      h5::WriteColumn(g.id(), t.metrics[m], column);
    }
  }
  h5::Handle g = h5::CreateGroup(file, "summary");
  std::vector<const std::vector<Json>*> values;
  std::vector<std::string> policy;
  std::vector<int64_t> seeds;
  for (const auto& r : t.summary) {
    values.push_back(&r.values);
    policy.push_back(r.policy);
    seeds.push_back(r.seeds);
  }
  for (size_t p = 0; p < t.parameters.size(); ++p) WriteParameterColumn(g.id(), t.parameters[p], values, p);
  h5::WriteStringColumn(g.id(), "policy", policy);
  h5::WriteColumn(g.id(), "seeds", seeds);
  for (size_t m = 0; m < t.metrics.size(); ++m) {
    std::vector<double> mean, low, high;
    for (const auto& r : t.summary) {
      mean.push_back(r.mean[m]);
      low.push_back(r.ci95_low[m]);
      high.push_back(r.ci95_high[m]);
    }
    h5::WriteColumn(g.id(), t.metrics[m] + "_mean", mean);
    h5::WriteColumn(g.id(), t.metrics[m] + "_ci95_low", low);
    h5::WriteColumn(g.id(), t.metrics[m] + "_ci95_high", high);
  }
}

}  // namespace

void WriteSweepH5(const std::string& path, const SweepSpec& spec, const SweepTables& tables) {
  std::lock_guard<std::recursive_mutex> lock(h5::LibraryMutex());
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  try {
    h5::Handle file = h5::CreateFile(temp);
    WriteTables(file.id(), spec, tables);
  } catch (const std::exception& e) {
    std::remove(temp.c_str());
    throw InputError(path + ": cannot write: " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    throw InputError(path + ": cannot write: " + ec.message());
  }
}

}  // namespace gpuslice
