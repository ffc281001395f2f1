#include "tools/cli_perf.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "gpu/fit.h"
#include "gpu/perf_check.h"
#include "gpu/perf_model.h"
#include "tools/cli_util.h"

namespace gpuslice {
namespace {

// The profiles at `path`: one CSV, or every *.csv in a folder.
std::vector<std::shared_ptr<const LatencyProfile>> LoadProfiles(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.path().extension() == ".csv") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path + ": no profile CSV in this folder");
  } else if (fs::exists(path)) {
    files.push_back(path);
  } else {
    throw InputError(path + ": no such file or folder");
  }
  std::vector<std::shared_ptr<const LatencyProfile>> out;
  for (const std::string& f : files) out.push_back(std::make_shared<LatencyProfile>(LatencyProfile::Load(f)));
  return out;
}

}  // namespace

int ExecutePerfPredict(const PerfCommand& cmd) {
  return GuardedCommand([&] {
    // Checked as they are parsed too (gpuslice_main.cc); again here for other callers.
    if (cmd.batch < 1 || cmd.batch > 4096) throw InputError("--batch: must be in [1, 4096]");
    if (!(cmd.sm_percent >= 0.1 && cmd.sm_percent <= 100)) throw InputError("--sm-percent: must be in [0.1, 100]");
    if (!(cmd.quota_percent >= 0.1 && cmd.quota_percent <= 100)) throw InputError("--quota-percent: must be in [0.1, 100]");
    if (cmd.predictor.sm_stride < 1) throw InputError("--sm-stride: must be >= 1");
    if (cmd.predictor.quota_stride < 1) throw InputError("--quota-stride: must be >= 1");
    if (!(cmd.token_window_ms >= 0.1 && cmd.token_window_ms <= 1e7)) throw InputError("--token-window-ms: must be in [0.1, 1e7]");
    if (!IsPredictorName(cmd.predictor.name)) {
      throw InputError("--predictor: unknown predictor '" + cmd.predictor.name + "' (" + PredictorNames() + ")");
    }
    auto profiles = LoadProfiles(cmd.profiles);
    std::vector<LatencyCurve> curves;
    int index = -1;
    std::string known;
    for (const auto& p : profiles) {
      if (p->model() == cmd.model) index = static_cast<int>(curves.size());
      known += (known.empty() ? "" : ", ") + p->model();
      curves.push_back(LatencyCurve::FromProfile(p));
    }
    if (index < 0) throw InputError(cmd.profiles + ": no profile of model '" + cmd.model + "' (has: " + known + ")");
    PerfModel truth(curves, cmd.token_window_ms);
    auto predictor = MakePredictor(cmd.predictor, truth);
    // A slice of `sm_percent` of a notional 1000-SM GPU: the profiles are in percent.
    const SliceShape slice{static_cast<int>(std::lround(cmd.sm_percent * 10)), 1000, cmd.quota_percent / 100};
    const double ms = predictor->PredictMs(index, cmd.batch, slice);
    if (cmd.json) {
      std::cout << nlohmann::ordered_json{{"model", cmd.model}, {"batch", cmd.batch}, {"sm_percent", cmd.sm_percent},
                                          {"quota_percent", cmd.quota_percent}, {"predictor", cmd.predictor.name},
                                          {"latency_ms", ms}}.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                << "\n";
    } else {
      std::printf("%.3f\n", ms);
    }
    return 0;
  });
}

int ExecutePerfCheck(const PerfCommand& cmd) {
  return GuardedCommand([&] {
    if (!(cmd.token_window_ms >= 0.1 && cmd.token_window_ms <= 1e7)) throw InputError("--token-window-ms: must be in [0.1, 1e7]");
    const LatencyProfile profile = LatencyProfile::Load(cmd.profiles);
    const PerfCheckReport report = CheckProfile(profile, cmd.token_window_ms);
    if (cmd.json) {
      std::cout << report.ToJson().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    } else {
      std::cout << report.ToText();
    }
    return 0;
  });
}

int ExecuteFit(const PerfCommand& cmd) {
  return GuardedCommand([&] {
    if (!(cmd.holdout > 0 && cmd.holdout < 1)) throw InputError("--holdout: must be in (0, 1)");
    if (cmd.seed < 0) throw InputError("--seed: must be >= 0");
    if (!cmd.output.empty()) CheckOutputPath(cmd.output, cmd.force, "-o");
    const Measurements m = ReadMeasurements(cmd.profiles);
    const FitReport report = EvaluateFit(m, cmd.holdout, static_cast<uint64_t>(cmd.seed));
    ThrowIfInterrupted();
    if (!cmd.output.empty()) {
      // The profile's folder, made here: WriteProfile (gpu/fit.cc) writes FILE.tmp beside it.
      const std::filesystem::path parent = std::filesystem::path(cmd.output).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) throw InputError("--output '" + cmd.output + "': cannot create its folder: " + ec.message());
      try {
        WriteProfile(m, cmd.output);
      } catch (const std::filesystem::filesystem_error& e) {
        std::filesystem::remove(cmd.output + ".tmp", ec);
        throw InputError("--output '" + cmd.output + "': cannot write: " + e.code().message());
      } catch (...) {
        std::filesystem::remove(cmd.output + ".tmp", ec);
        throw;
      }
    }
    if (cmd.json) {
      std::cout << report.ToJson().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    } else {
      std::cout << report.ToText();
      if (!cmd.output.empty()) std::cout << "wrote " << cmd.output << "\n";
    }
    return 0;
  });
}

}  // namespace gpuslice
