#include "tools/cli_backend.h"

#include <map>

#include "gpu/backend/simulated_device.h"
#include "gpu/calibrate/local_gpu.h"
#include "gpu/perf_model.h"
#include "sim/util/error.h"
#include "tools/cli_util.h"
#include "tools/cli_calibrate.h"

namespace gpuslice {

void AddBackendOptions(CLI::App* app, BackendChoice* choice) {
  app->add_option("--backend", choice->name,
                  "sim (the simulator, default), cuda (the scenario executed on the local GPU in real time) or "
                  "simulated-device (the GPU backend on a device timed by the scenario's own model; no GPU)")
      ->check(OneOf({"sim", "cuda", "simulated-device"}));
  app->add_option("--time-scale", choice->time_scale,
                  "simulated-device: wall seconds per simulated second (default 1; 0.1 runs 10x faster)")
      ->check(NumberIn(1e-6, false, 1e6, false));
  app->add_option("--device", choice->device, "cuda: the GPU's index (default 0)")->check(IntegerIn(0, 1023));
  app->add_option("--zoo", choice->zoo, "Folder of zoo models the GPU backend runs (default: found beside the binary)");
}

std::unique_ptr<GpuBackend> GpuBackend::Open(const BackendChoice& choice, const Scenario& scenario) {
  if (choice.name == "sim") return nullptr;
  if (scenario.total_gpus() != 1) {
    throw InputError(scenario.file + ": --backend " + choice.name + " runs the scenario on one local GPU, and it has " +
                     std::to_string(scenario.total_gpus()) + " GPUs (set cluster to one node of one GPU)");
  }
  std::unique_ptr<GpuBackend> b(new GpuBackend());
  b->window_ms_ = scenario.token_window_ms;
  std::vector<std::string> names;
  for (const ModelSpec& m : scenario.models) names.push_back(m.name);
  b->zoo_models_ = ZooModelsFor(names, choice.zoo.empty() ? FindZoo(choice.argv0) : choice.zoo, 0);
  if (choice.name == "cuda") {
    b->device_ = OpenLocalGpu(choice.device);
  } else {
    // The scenario's own truth: a whole inference takes the PerfModel's solo latency.
    std::vector<LatencyCurve> curves;
    for (const ModelSpec& m : scenario.models) curves.push_back(m.curve);
    auto perf = std::make_shared<PerfModel>(curves, scenario.token_window_ms);
    std::map<std::string, int> index;
    for (size_t i = 0; i < scenario.models.size(); ++i) index[b->zoo_models_[i].name()] = static_cast<int>(i);
    const int gpu_sms = scenario.node_groups.front().gpu->sm_count;
    b->time_scale_ = choice.time_scale;
    b->device_ = std::make_unique<SimulatedDevice>(
        gpu_sms, std::max(1, gpu_sms / 16), choice.time_scale,
        [perf, index, gpu_sms](const std::string& model, int batch, int sms) {
          return perf->BatchLatencyMs(index.at(model), batch, SliceShape{sms, gpu_sms, 1.0});
        });
  }
  return b;
}

void GpuBackend::PrepareRun(RunOptions* options) {
  gpu_.reset();
  real_time_ = std::make_unique<RealTime>(time_scale_);
  gpu_ = std::make_unique<DeviceGpu>(*device_, zoo_models_, window_ms_);
  options->external_gpu = gpu_.get();
  options->real_time = real_time_.get();
}

bool GpuBackend::FinishRun(std::ostream& out) {
  std::vector<std::string> notes = gpu_->notes(), errors = gpu_->errors();
  gpu_.reset();  // joins the instances' threads
  out << "  backend: " << device_->info().name << "\n";
  for (const std::string& n : notes) out << "  backend note: " << n << "\n";
  for (const std::string& e : errors) out << "  backend GPU error: " << e << "\n";
  return errors.empty();
}

}  // namespace gpuslice
