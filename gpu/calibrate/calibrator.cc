#include "gpu/calibrate/calibrator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "gpu/fit.h"
#include "gpu/interference.h"
#include "gpu/sample_stats.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

namespace fs = std::filesystem;

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> ModelsOf(const CalibrationOptions& o) {
  return o.models.empty() ? ListZoo(o.zoo_dir) : o.models;
}

std::vector<ZooModel> LoadModels(const CalibrationOptions& o) {
  std::vector<ZooModel> models;
  for (const std::string& name : ModelsOf(o)) models.push_back(ZooModel::Read(o.zoo_dir + "/" + name + ".json", o.sequence));
  return models;
}

std::ofstream OpenForWrite(const fs::path& path) {
  std::ofstream out(path);
  if (!out) throw InputError(path.string() + ": cannot write");
  return out;
}

std::string GpuColumn(const DeviceInfo& info) {
  if (!info.profile_name.empty()) return info.profile_name;
  std::string s = info.name;
  for (char& ch : s) {
    if (ch == ',' || ch == '"' || ch == '\n') ch = ' ';
  }
  return s;
}

}  // namespace

void ValidateCalibrationOptions(const CalibrationOptions& o) {
  if (!fs::is_directory(o.zoo_dir)) throw InputError(o.zoo_dir + ": no such zoo folder");
  const std::vector<std::string> zoo = ListZoo(o.zoo_dir);
  for (const std::string& m : o.models) {
    if (std::find(zoo.begin(), zoo.end(), m) == zoo.end()) {
      std::string known;
      for (const std::string& z : zoo) known += (known.empty() ? "" : ", ") + z;
      throw InputError("--models: no model '" + m + "' in " + o.zoo_dir + " (the zoo has " + known + ")");
    }
  }
  if (o.batches.empty()) throw InputError("--batches: give at least one batch size");
  for (int b : o.batches) {
    if (b < 1 || b > 4096) throw InputError("--batches: " + std::to_string(b) + " is not in 1..4096");
  }
  for (int s : o.sm_counts) {
    if (s < 1) throw InputError("--sm-steps: " + std::to_string(s) + " is not a positive SM count");
  }
  if (o.quotas.empty()) throw InputError("--quotas: give at least one quota");
  for (double q : o.quotas) {
    if (!(q > 0 && q <= 1)) throw InputError("--quotas: " + Fixed(q, 3) + " is not in (0, 1]");
  }
  if (std::find(o.quotas.begin(), o.quotas.end(), 1.0) == o.quotas.end()) {
    throw InputError("--quotas: must include 1 (the profile format needs the full-quota grid)");
  }
  if (o.repetitions < 1) throw InputError("--repetitions: must be >= 1");
  if (o.warmup < 0) throw InputError("--warmup: must be >= 0");
  if (!(o.window_ms > 0)) throw InputError("--window-ms: must be > 0");
  if (o.pair_batch < 1) throw InputError("--pair-batch: must be >= 1");
  if (!(o.holdout > 0 && o.holdout < 1)) throw InputError("--holdout: must be in (0, 1)");
  if (o.output_dir.empty()) throw InputError("-o: give the output folder");
  if (fs::exists(o.output_dir)) throw InputError(o.output_dir + ": already exists; remove it or choose another folder");
  LoadModels(o);  // every zoo file parses
}

void DescribePlan(const CalibrationOptions& o, std::ostream& out) {
  const int max_batch = *std::max_element(o.batches.begin(), o.batches.end());
  for (const ZooModel& m : LoadModels(o)) {
    out << m.name() << ": " << m.kernel_ops() << " launch units, " << Fixed(m.params() / 1e6, 2) << " M parameters, "
        << Fixed(m.macs_per_sample() / 1e9, 3) << " G multiply-adds per sample"
        << (m.is_sequence() ? " at " + std::to_string(m.sequence()) + " tokens" : std::string()) << ", "
        << Fixed(m.BytesMoved(1) / 1e6, 1) << " MB moved at batch 1, " << Fixed(m.BytesMoved(max_batch) / 1e6, 1)
        << " MB at batch " << max_batch << "\n";
  }
  out << "points per SM partition: " << ModelsOf(o).size() * o.batches.size() * o.quotas.size() << " (models x batches x quotas), "
      << o.repetitions << " repetitions each, after " << o.warmup << " warm-up runs\n";
  out << "SM partitions: "
      << (o.sm_counts.empty() ? std::string("every size the GPU allows") : std::to_string(o.sm_counts.size()) + " sizes")
      << "; token window " << Fixed(o.window_ms, 1) << " ms; co-located pairs: " << (o.pairs ? "yes" : "no") << "\n";
}

void RunCalibration(const CalibrationOptions& o, CalibrationDevice& device, std::ostream& progress) {
  ValidateCalibrationOptions(o);
  const auto t_start = std::chrono::steady_clock::now();
  const std::string started = UtcNow();
  const DeviceInfo& info = device.info();
  const std::vector<ZooModel> models = LoadModels(o);
  const nlohmann::ordered_json state_at_start = device.Snapshot();
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();

  std::vector<int> sizes = o.sm_counts.empty() ? device.PartitionSizes() : o.sm_counts;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (int s : sizes) {
    if (s > info.sm_count) {
      throw InputError("--sm-steps: " + std::to_string(s) + " SMs, but the GPU has " + std::to_string(info.sm_count));
    }
  }

  const fs::path final_dir(o.output_dir);
  const fs::path dir = final_dir.string() + ".partial";
  if (fs::exists(dir / "INTERRUPTED.json")) {
    throw InputError(dir.string() + " holds an interrupted run's measurements: move it away (or remove it) first");
  }
  fs::remove_all(dir);
  fs::create_directories(dir / "measurements");
  fs::create_directories(dir / "profiles");

  const std::string gpu = GpuColumn(info);
  const int64_t window_ns = static_cast<int64_t>(std::llround(o.window_ms * 1e6));
  std::map<std::string, std::ofstream> measurement_files;
  for (const ZooModel& m : models) {
    std::ofstream& f = measurement_files[m.name()] = OpenForWrite(dir / "measurements" / (m.name() + ".csv"));
    f << "model,gpu,batch,sm_percent,quota_percent,latency_ms,partition_sms,repetition\n";
  }
  std::ofstream units = OpenForWrite(dir / "units.csv");
  units << "model,batch,unit,op,ms\n";

  // Full-GPU, full-quota medians, for the interference model's utilisations.
  std::map<std::pair<std::string, int>, double> whole_gpu_ms;
  nlohmann::ordered_json partitions = nlohmann::ordered_json::array();
  long points = 0;
  const auto t_grid = std::chrono::steady_clock::now();
  // Where the run is, for INTERRUPTED.json.
  nlohmann::ordered_json at = nlohmann::ordered_json::object();
  auto check_interrupt = [&] {
    if (!(o.interrupted && o.interrupted->load())) return;
    measurement_files.clear();  // closes (and flushes) every file
    units.close();
    nlohmann::ordered_json status = {{"interrupted_at", at},
                                     {"measurements", points},
                                     {"partitions_done", partitions},
                                     {"seconds", SecondsSince(t_grid)}};
    std::ofstream f = OpenForWrite(dir / "INTERRUPTED.json");
    f << status.dump(2) << "\n";
    f.close();
    throw CalibrationInterrupted("calibration interrupted: " + dir.string() + " keeps the " + std::to_string(points) +
                                 " measurements made so far (complete rows in measurements/; INTERRUPTED.json says "
                                 "where it stopped); `gpuslice fit` reads them");
  };
  for (int size : sizes) {
    const auto t_size = std::chrono::steady_clock::now();
    std::unique_ptr<Partition> part = device.OpenPartition(size);
    const int real = part->sm_count();
    const bool whole = real == info.sm_count;
    const double sm_percent = 100.0 * real / info.sm_count;
    for (const ZooModel& m : models) {
      std::ofstream& f = measurement_files[m.name()];
      for (int batch : o.batches) {
        std::unique_ptr<Inference> inf = part->Prepare(m, batch);
        if (o.warmup > 0) inf->TimeFull(o.warmup);
        const std::vector<int64_t> unit_ns = inf->TimeUnits(3);
        if (whole) {
          if (const std::string problem = inf->CheckOutput(); !problem.empty()) {
            const std::string w = m.name() + " batch " + std::to_string(batch) + ": " + problem;
            progress << "calibrate: warning: " << w << "\n";
            warnings.push_back(w);
          }
          int u = 0;
          for (const ZooOp& op : m.ops()) {
            if (op.kind == ZooOpKind::kSave || op.kind == ZooOpKind::kFlatten) continue;
            units << m.name() << ',' << batch << ',' << u << ',' << ToString(op.kind) << ','
                  << Fixed(unit_ns[static_cast<size_t>(u)] / 1e6, 5) << '\n';
            ++u;
          }
        }
        for (double q : o.quotas) {
          at = {{"partition_sms", real}, {"model", m.name()}, {"batch", batch}, {"quota_percent", 100 * q}};
          check_interrupt();
          TokenGate gate(q, window_ns);
          std::vector<double> runs;
          for (int r = 0; r < o.repetitions; ++r) {
            gate.Reset();
            GatedRun(gate, *inf, unit_ns);
            const double ms = inf->LastRunMs();
            runs.push_back(ms);
            f << m.name() << ',' << gpu << ',' << batch << ',' << Fixed(sm_percent, 4) << ',' << Fixed(100 * q, 2) << ','
              << Fixed(ms, 5) << ',' << real << ',' << r << '\n';
            ++points;
          }
          f.flush();  // a point's rows reach the disk together
          if (whole && q == 1.0) whole_gpu_ms[{m.name(), batch}] = Median(runs);
        }
      }
    }
    const double seconds = SecondsSince(t_size);
    partitions.push_back({{"requested_sms", size}, {"sms", real}, {"seconds", seconds}});
    progress << "calibrate: " << real << " SMs (" << Fixed(sm_percent, 1) << "%) done in " << Fixed(seconds, 1) << " s\n"
             << std::flush;
  }
  for (auto& [name, f] : measurement_files) {
    f.close();
    if (!f) throw InputError((dir / "measurements" / (name + ".csv")).string() + ": write failed");
  }
  units.close();
  const double grid_seconds = SecondsSince(t_grid);

  // Co-located pairs on two halves.
  const auto t_pairs = std::chrono::steady_clock::now();
  nlohmann::ordered_json pair_meta = nullptr;
  if (o.pairs && models.size() > 0) {
    const std::vector<int> allowed = device.PartitionSizes();
    int half = 0;
    for (int s : allowed) {
      if (2 * s <= info.sm_count) half = std::max(half, s);
    }
    if (half == 0) {
      progress << "calibrate: the GPU cannot be split in two; no co-located pairs\n";
    } else {
      std::ofstream pairs = OpenForWrite(dir / "interference.csv");
      pairs << "model,batch,beside,beside_batch,partition_sms,solo_ms,colocated_ms,slowdown,dram_util,beside_dram_util,"
               "model_slowdown\n";
      const int pb = o.pair_batch;
      // Each model's DRAM utilisation on the whole GPU: bytes moved / (latency x peak bandwidth).
      std::map<std::string, double> dram_util;
      {
        std::unique_ptr<Partition> whole = device.OpenPartition(info.sm_count);
        for (const ZooModel& m : models) {
          double ms = 0;
          auto it = whole_gpu_ms.find({m.name(), pb});
          if (it != whole_gpu_ms.end()) {
            ms = it->second;
          } else {
            std::unique_ptr<Inference> inf = whole->Prepare(m, pb);
            inf->TimeFull(o.warmup);
            ms = Median(inf->TimeFull(o.repetitions));
          }
          const double bw_bytes_per_ms = info.memory_bandwidth_gbps * 1e6;
          dram_util[m.name()] = std::min(1.0, m.BytesMoved(pb) / (ms * bw_bytes_per_ms));
        }
      }
      int real_half = 0;
      double sum_measured = 0, sum_modelled = 0, sum_abs_error = 0;
      int pair_count = 0;
      for (const ZooModel& a : models) {
        for (const ZooModel& b : models) {
          at = {{"pair", {a.name(), b.name()}}};
          check_interrupt();
          auto [pa, pb_part] = device.OpenPair(half);
          real_half = pa->sm_count();
          std::unique_ptr<Inference> ia = pa->Prepare(a, pb);
          std::unique_ptr<Inference> ib = pb_part->Prepare(b, pb);
          ia->TimeFull(o.warmup);
          ib->TimeFull(o.warmup);
          const double solo = Median(ia->TimeFull(o.repetitions));
          std::atomic<bool> stop{false}, load_started{false};
          std::exception_ptr background_error;
          std::thread background([&] {
            try {
              ib->RunInBackground(stop, load_started);
            } catch (...) {
              background_error = std::current_exception();
              load_started = true;
            }
          });
          std::vector<double> together;
          try {
            while (!load_started.load()) std::this_thread::yield();
            if (background_error) std::rethrow_exception(background_error);
            together = ia->TimeFull(o.repetitions);
          } catch (...) {
            stop = true;
            background.join();
            throw;
          }
          stop = true;
          background.join();
          if (background_error) std::rethrow_exception(background_error);
          const double colocated = Median(together);
          const double f = static_cast<double>(real_half) / info.sm_count;
          const double ua = dram_util[a.name()], ub = dram_util[b.name()];
          // L2 utilisation is not measured here; it is taken equal to the DRAM utilisation.
          const double predicted = GpuletSlowdown(kGpuletInterferenceCoefficients, {ua, ua, f}, {ub, ub, f});
          sum_measured += colocated / solo;
          sum_modelled += predicted;
          sum_abs_error += std::abs(colocated / solo - predicted);
          ++pair_count;
          pairs << a.name() << ',' << pb << ',' << b.name() << ',' << pb << ',' << real_half << ',' << Fixed(solo, 5) << ','
                << Fixed(colocated, 5) << ',' << Fixed(colocated / solo, 4) << ',' << Fixed(ua, 4) << ',' << Fixed(ub, 4)
                << ',' << Fixed(predicted, 4) << '\n';
        }
      }
      pairs.close();
      const double n = std::max(1, pair_count);
      pair_meta = {{"partition_sms", real_half},
                   {"batch", pb},
                   {"pairs", pair_count},
                   {"mean_measured_slowdown", sum_measured / n},
                   {"mean_model_slowdown", sum_modelled / n},
                   {"mean_abs_error", sum_abs_error / n},
                   {"seconds", SecondsSince(t_pairs)}};
      progress << "calibrate: " << pair_count << " co-located pairs on " << real_half << " + " << real_half
               << " SMs: mean slowdown " << Fixed(sum_measured / n, 3) << " measured, " << Fixed(sum_modelled / n, 3)
               << " by the gpu-lets model (mean |error| " << Fixed(sum_abs_error / n, 3) << "), "
               << Fixed(SecondsSince(t_pairs), 1) << " s\n"
               << std::flush;
    }
  }

  // Fit: profiles and held-out error.
  nlohmann::ordered_json fits = nlohmann::ordered_json::object();
  for (const ZooModel& m : models) {
    const Measurements meas = ReadMeasurements((dir / "measurements" / (m.name() + ".csv")).string());
    WriteProfile(meas, (dir / "profiles" / (m.name() + ".csv")).string());
    if (meas.points.size() >= 3) {
      const FitReport report = EvaluateFit(meas, o.holdout, o.seed, o.window_ms);
      fits[m.name()] = report.ToJson();
      progress << report.ToText();
    }
  }
  {
    std::ofstream f = OpenForWrite(dir / "fit.json");
    f << fits.dump(2) << '\n';
  }

  nlohmann::ordered_json meta;
  meta["tool"] = "gpuslice calibrate";
  meta["started_utc"] = started;
  meta["finished_utc"] = UtcNow();
  meta["device"] = {{"name", info.name},
                    {"catalog_name", info.profile_name},
                    {"sm_count", info.sm_count},
                    {"min_partition_sms", info.min_partition_sms},
                    {"partition_alignment_sms", info.partition_alignment_sms},
                    {"memory_gib", info.memory_gib},
                    {"memory_bandwidth_gbps", info.memory_bandwidth_gbps},
                    {"details", info.details}};
  nlohmann::ordered_json zoo = nlohmann::ordered_json::object();
  for (const ZooModel& m : models) {
    zoo[m.name()] = {{"params", m.params()}, {"macs_per_sample", m.macs_per_sample()}, {"launch_units", m.kernel_ops()}};
    if (m.is_sequence()) zoo[m.name()]["sequence"] = m.sequence();
  }
  meta["plan"] = {{"models", zoo},
                  {"batches", o.batches},
                  {"sm_counts", sizes},
                  {"quotas", o.quotas},
                  {"repetitions", o.repetitions},
                  {"warmup", o.warmup},
                  {"token_window_ms", o.window_ms},
                  {"latency", "GPU time (CUDA events) of one batch started on a fresh token window"},
                  {"precision", "fp16 storage, fp32 accumulation"}};
  meta["measurements"] = points;
  meta["gpu_state"] = {{"start", state_at_start}, {"end", device.Snapshot()}};
  meta["warnings"] = warnings;
  meta["timing_s"] = {{"total", SecondsSince(t_start)}, {"grid", grid_seconds}, {"partitions", partitions},
                      {"pairs", pair_meta}};
  {
    std::ofstream f = OpenForWrite(dir / "metadata.json");
    f << meta.dump(2) << '\n';
    f.close();
    if (!f) throw InputError((dir / "metadata.json").string() + ": write failed");
  }
  fs::rename(dir, final_dir);
  progress << "calibrate: " << points << " measurements in " << Fixed(SecondsSince(t_start), 1) << " s -> "
           << final_dir.string() << "\n";
}

}  // namespace gpuslice
