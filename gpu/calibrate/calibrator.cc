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
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <thread>

#include "gpu/fit.h"
#include "gpu/interference.h"
#include "gpu/sample_stats.h"
#include "sim/util/error.h"
#include "sim/util/json_reader.h"

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
  if (fs::exists(o.output_dir) && !(o.resume && fs::exists(fs::path(o.output_dir) / "metadata.json"))) {
    throw InputError(o.output_dir + ": already exists; remove it or choose another folder");
  }
  if (o.budget_s < 0) throw InputError("--time-budget-s: must be >= 0");
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

namespace {

// (partition SMs, model, batch, quota percent as written): one point of the grid.
using PointKey = std::tuple<int, std::string, int, std::string>;

// A co-located pair an earlier part measured: its row, and what the summary needs of it.
struct KeptPair {
  std::string text;
  int partition_sms;
  double measured, modelled;  // slowdowns
};

struct CsvRow {
  std::string text;
  std::vector<std::string> fields;
};

// The complete data rows of a CSV file this calibration wrote (none if it does not exist):
// the header is skipped, and a last line without its line break (a write cut off by a kill)
// is dropped, so that a field cut short is never read as a value.
std::vector<CsvRow> ReadCompleteRows(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::vector<CsvRow> rows;
  std::stringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    CsvRow row{line, {}};
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) row.fields.push_back(f);
    rows.push_back(std::move(row));
  }
  return rows;
}

// Writes `text` to path atomically (a temporary beside it, then rename).
void WriteAtomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f = OpenForWrite(tmp);
    f << text;
    f.close();
    if (!f) throw InputError(tmp.string() + ": write failed");
  }
  fs::rename(tmp, path);
}

// "8, 16, ..., 128 and 132": the sizes a device makes, for a message.
std::string DescribeSizes(const std::vector<int>& sizes) {
  std::string s;
  const size_t n = sizes.size();
  if (n >= 5 && sizes[1] - sizes[0] == sizes[n - 2] - sizes[n - 3]) {
    s = std::to_string(sizes[0]) + ", " + std::to_string(sizes[1]) + ", ..., " + std::to_string(sizes[n - 2]);
  } else {
    for (size_t i = 0; i + 1 < n; ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  }
  return s + (n > 1 ? " and " : "") + std::to_string(sizes.back());
}

nlohmann::ordered_json PlanJson(const CalibrationOptions& o, const std::vector<std::string>& models,
                                const std::vector<int>& sizes, const DeviceInfo& info) {
  return {{"device", info.name},
          {"sm_count", info.sm_count},
          {"models", models},
          {"batches", o.batches},
          {"sm_counts", sizes},
          {"quotas", o.quotas},
          {"repetitions", o.repetitions},
          {"warmup", o.warmup},
          {"token_window_ms", o.window_ms},
          {"sequence", o.sequence},
          {"pairs", o.pairs},
          {"pair_batch", o.pair_batch}};
}

constexpr int kMaxFailuresInARow = 5;

}  // namespace

DeviceCheck CheckDevice(const CalibrationOptions& o, CalibrationDevice& device) {
  DeviceCheck check;
  auto step = [&](const std::string& what, const std::function<std::string()>& fn) {
    try {
      const std::string detail = fn();
      check.lines.push_back("ok    " + what + (detail.empty() ? "" : ": " + detail));
      return true;
    } catch (const std::exception& e) {
      check.ok = false;
      check.lines.push_back("FAIL  " + what + ": " + e.what());
      return false;
    }
  };
  const DeviceInfo& info = device.info();
  std::vector<ZooModel> models;
  step("zoo " + o.zoo_dir, [&] {
    const std::vector<std::string> zoo = ListZoo(o.zoo_dir);
    std::vector<std::string> names;
    for (const char* preferred : {"resnet50", "bert_base"}) {
      if (std::find(zoo.begin(), zoo.end(), preferred) != zoo.end()) names.push_back(preferred);
    }
    for (size_t i = 0; names.size() < 2 && i < zoo.size(); ++i) {
      if (std::find(names.begin(), names.end(), zoo[i]) == names.end()) names.push_back(zoo[i]);
    }
    std::string list;
    for (const std::string& n : names) {
      models.push_back(ZooModel::Read(o.zoo_dir + "/" + n + ".json", o.sequence));
      list += (list.empty() ? "" : ", ") + n;
    }
    return list;
  });
  const std::vector<int> sizes = device.PartitionSizes();
  std::vector<int> check_sizes = {sizes.front()};
  if (sizes.back() != sizes.front()) check_sizes.push_back(sizes.back());
  for (int size : check_sizes) {
    std::unique_ptr<Partition> part;
    const std::string where = size == info.sm_count ? "the whole GPU (" + std::to_string(size) + " SMs)"
                                                    : "a partition of " + std::to_string(size) + " SMs";
    if (!step("open " + where, [&] {
          part = device.OpenPartition(size);
          return std::to_string(part->sm_count()) + " SMs";
        })) {
      continue;
    }
    for (const ZooModel& m : models) {
      step(m.name() + " batch 1 on " + where, [&] {
        std::unique_ptr<Inference> inf = part->Prepare(m, 1);
        const std::vector<double> ms = inf->TimeFull(2);
        if (const std::string problem = inf->CheckOutput(); !problem.empty()) throw GpuError(problem);
        return Fixed(ms.back(), 3) + " ms, output sane";
      });
    }
  }
  int half = 0;
  for (int s : sizes) {
    if (2 * s <= info.sm_count) half = std::max(half, s);
  }
  if (half > 0 && !models.empty()) {
    step("two partitions of " + std::to_string(half) + " SMs side by side", [&] {
      auto [a, b] = device.OpenPair(half);
      std::unique_ptr<Inference> ia = a->Prepare(models.front(), 1);
      std::unique_ptr<Inference> ib = b->Prepare(models.front(), 1);
      const double ma = ia->TimeFull(1).back(), mb = ib->TimeFull(1).back();
      return std::to_string(a->sm_count()) + " + " + std::to_string(b->sm_count()) + " SMs, " + Fixed(ma, 3) + " and " +
             Fixed(mb, 3) + " ms";
    });
  }
  return check;
}

void RunCalibration(const CalibrationOptions& o, CalibrationDevice& device, std::ostream& progress) {
  const fs::path final_dir(o.output_dir);
  if (o.resume && fs::exists(final_dir / "metadata.json")) {
    progress << "calibrate: " << final_dir.string() << " is complete; nothing to resume\n";
    return;
  }
  ValidateCalibrationOptions(o);
  const auto t_start = std::chrono::steady_clock::now();
  const DeviceInfo& info = device.info();
  const std::vector<ZooModel> models = LoadModels(o);
  std::vector<std::string> model_names;
  for (const ZooModel& m : models) model_names.push_back(m.name());
  const nlohmann::ordered_json state_at_start = device.Snapshot();
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  nlohmann::ordered_json failures = nlohmann::ordered_json::array();
  // How each prepared point launched its units (the first 20 of each mode).
  nlohmann::ordered_json launch_modes = nlohmann::ordered_json::object();

  const std::vector<int> allowed = device.PartitionSizes();
  std::vector<int> sizes = o.sm_counts.empty() ? allowed : o.sm_counts;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (int s : sizes) {
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      throw InputError("--sm-steps: " + std::to_string(s) + " SMs is not a partition this GPU makes (" +
                       std::to_string(info.sm_count) + " SMs; partitions of " + DescribeSizes(allowed) + ")");
    }
  }

  const fs::path dir = final_dir.string() + ".partial";
  const nlohmann::ordered_json plan = PlanJson(o, model_names, sizes, info);
  std::string started = UtcNow();
  double seconds_before = 0;
  // What an earlier part measured: complete points, units and pairs.
  std::set<PointKey> done;
  std::map<std::string, std::vector<std::string>> kept_rows;
  std::vector<std::string> kept_units;
  std::vector<KeptPair> kept_pairs;
  std::set<std::pair<std::string, int>> units_done;
  std::set<std::pair<std::string, std::string>> pairs_done;
  std::map<std::pair<std::string, int>, std::vector<double>> whole_full_quota;
  const std::string gpu = GpuColumn(info);
  const bool resuming = o.resume && fs::exists(dir / "PLAN.json");
  if (!resuming && fs::exists(dir / "INTERRUPTED.json")) {
    throw InputError(dir.string() + " holds an interrupted run's measurements: continue it with --resume, or move it "
                     "away (or remove it) first");
  }
  if (resuming) {
    const nlohmann::ordered_json before = ParseJsonFile((dir / "PLAN.json").string());
    for (const auto& [key, value] : plan.items()) {
      if (!before.contains(key) || before[key]["value"] != value) {
        throw InputError(dir.string() + "/PLAN.json: the plan differs from this run's at '" + key + "' (" +
                         (before.contains(key) ? before[key]["value"].dump() : std::string("missing")) + " there, " +
                         value.dump() + " here): resume with the same options");
      }
    }
    started = before["started_utc"]["value"].get<std::string>();
    if (fs::exists(dir / "INTERRUPTED.json")) {
      seconds_before = ParseJsonFile((dir / "INTERRUPTED.json").string()).value("seconds_total", 0.0);
    }
    for (const std::string& name : model_names) {
      // Rows of a point, with their latencies, in the order the points were measured.
      std::map<PointKey, std::vector<std::pair<std::string, double>>> groups;
      std::vector<PointKey> order;
      for (const CsvRow& row : ReadCompleteRows(dir / "measurements" / (name + ".csv"))) {
        const std::vector<std::string>& c = row.fields;
        if (c.size() != 8 || c[0] != name) continue;
        try {
          const PointKey key{std::stoi(c[6]), c[0], std::stoi(c[2]), c[4]};
          if (!groups.count(key)) order.push_back(key);
          groups[key].push_back({row.text, std::stod(c[5])});
        } catch (const std::exception&) {
          continue;
        }
      }
      for (const PointKey& key : order) {
        auto& rows = groups[key];
        if (static_cast<int>(rows.size()) < o.repetitions) continue;  // a point cut off mid-way
        rows.resize(static_cast<size_t>(o.repetitions));
        done.insert(key);
        const bool whole_full = std::get<0>(key) == info.sm_count && std::get<3>(key) == Fixed(100.0, 2);
        for (const auto& [text, ms] : rows) {
          kept_rows[name].push_back(text);
          if (whole_full) whole_full_quota[{name, std::get<2>(key)}].push_back(ms);
        }
      }
    }
    // Units of a (model, batch) are kept when every whole-GPU point of it is done (they are
    // measured again otherwise).
    auto whole_done = [&](const std::string& model, int batch) {
      for (double q : o.quotas) {
        if (!done.count(PointKey{info.sm_count, model, batch, Fixed(100 * q, 2)})) return false;
      }
      return true;
    };
    for (const CsvRow& row : ReadCompleteRows(dir / "units.csv")) {
      const std::vector<std::string>& c = row.fields;
      if (c.size() != 5) continue;
      try {
        if (whole_done(c[0], std::stoi(c[1]))) {
          kept_units.push_back(row.text);
          units_done.insert({c[0], std::stoi(c[1])});
        }
      } catch (const std::exception&) {
      }
    }
    for (const CsvRow& row : ReadCompleteRows(dir / "interference.csv")) {
      const std::vector<std::string>& c = row.fields;
      if (c.size() != 11) continue;
      try {
        kept_pairs.push_back({row.text, std::stoi(c[4]), std::stod(c[7]), std::stod(c[10])});
        pairs_done.insert({c[0], c[2]});
      } catch (const std::exception&) {
      }
    }
    fs::remove(dir / "INTERRUPTED.json");
    progress << "calibrate: resuming " << dir.string() << ": " << done.size() << " points, " << pairs_done.size()
             << " pairs done\n";
  } else {
    fs::remove_all(dir);
    fs::create_directories(dir);
    nlohmann::ordered_json plan_file = nlohmann::ordered_json::object();
    for (const auto& [key, value] : plan.items()) plan_file[key] = {{"value", value}};
    plan_file["started_utc"] = {{"value", started}};
    WriteAtomically(dir / "PLAN.json", plan_file.dump(2) + "\n");
  }
  fs::create_directories(dir / "measurements");
  fs::create_directories(dir / "profiles");

  const int64_t window_ns = static_cast<int64_t>(std::llround(o.window_ms * 1e6));
  const std::string measurement_header = "model,gpu,batch,sm_percent,quota_percent,latency_ms,partition_sms,repetition\n";
  const std::string units_header = "model,batch,unit,op,ms\n";
  const std::string pairs_header =
      "model,batch,beside,beside_batch,partition_sms,solo_ms,colocated_ms,slowdown,dram_util,beside_dram_util,"
      "model_slowdown\n";
  auto joined = [](const std::string& header, const std::vector<std::string>& rows) {
    std::string text = header;
    for (const std::string& r : rows) text += r + "\n";
    return text;
  };
  // Each file starts over from what is kept (atomically), then grows by appending.
  std::map<std::string, std::ofstream> measurement_files;
  long points = 0;
  for (const ZooModel& m : models) {
    const fs::path path = dir / "measurements" / (m.name() + ".csv");
    WriteAtomically(path, joined(measurement_header, kept_rows[m.name()]));
    points += static_cast<long>(kept_rows[m.name()].size());
    measurement_files[m.name()] = std::ofstream(path, std::ios::app);
    if (!measurement_files[m.name()]) throw InputError(path.string() + ": cannot write");
  }
  WriteAtomically(dir / "units.csv", joined(units_header, kept_units));
  std::ofstream units(dir / "units.csv", std::ios::app);

  nlohmann::ordered_json partitions = nlohmann::ordered_json::array();
  const auto t_grid = std::chrono::steady_clock::now();
  nlohmann::ordered_json at = nlohmann::ordered_json::object();  // where the run is
  auto save_progress = [&](const std::string& reason) {
    measurement_files.clear();  // closes (and flushes) every file
    units.close();
    nlohmann::ordered_json status = {{"reason", reason},
                                     {"interrupted_at", at},
                                     {"measurements", points},
                                     {"partitions_this_part", partitions},
                                     {"failures", failures},
                                     {"seconds_this_part", SecondsSince(t_start)},
                                     {"seconds_total", seconds_before + SecondsSince(t_start)}};
    WriteAtomically(dir / "INTERRUPTED.json", status.dump(2) + "\n");
  };
  auto check_interrupt = [&] {
    const bool signalled = o.interrupted && o.interrupted->load();
    const bool budget_spent = o.budget_s > 0 && SecondsSince(t_start) >= o.budget_s;
    if (!signalled && !budget_spent) return;
    save_progress(signalled ? "signal" : "time budget");
    throw CalibrationInterrupted(
        std::string(signalled ? "calibration interrupted" : "the time budget is spent") + ": " + dir.string() +
            " keeps the " + std::to_string(points) +
            " measurements made so far (complete rows in measurements/; INTERRUPTED.json says where it stopped); "
            "run the same command with --resume to go on, or `gpuslice fit` reads them",
        !signalled);
  };
  int failures_in_a_row = 0;
  auto note_failure = [&](const nlohmann::ordered_json& where, const std::exception& e) {
    nlohmann::ordered_json f = where;
    f["error"] = e.what();
    failures.push_back(f);
    progress << "calibrate: warning: " << where.dump() << " failed, skipped: " << e.what() << "\n" << std::flush;
    if (++failures_in_a_row >= kMaxFailuresInARow) {
      save_progress("failures");
      throw GpuError(std::to_string(kMaxFailuresInARow) + " points failed in a row (the last: " + e.what() + "); " +
                     dir.string() + " keeps what was measured, --resume continues it");
    }
  };

  // Full-GPU, full-quota medians, for the interference model's utilisations.
  std::map<std::pair<std::string, int>, double> whole_gpu_ms;
  for (const auto& [key, runs] : whole_full_quota) whole_gpu_ms[key] = Median(runs);
  for (int size : sizes) {
    const auto t_size = std::chrono::steady_clock::now();
    at = {{"requested_sms", size}};
    check_interrupt();
    std::unique_ptr<Partition> part;
    try {
      part = device.OpenPartition(size);
    } catch (const GpuError& e) {
      note_failure({{"requested_sms", size}}, e);
      continue;
    }
    const int real = part->sm_count();
    const bool whole = real == info.sm_count;
    const double sm_percent = 100.0 * real / info.sm_count;
    for (const ZooModel& m : models) {
      std::ofstream& f = measurement_files[m.name()];
      for (int batch : o.batches) {
        bool all_done = true;
        for (double q : o.quotas) all_done = all_done && done.count(PointKey{real, m.name(), batch, Fixed(100 * q, 2)});
        if (all_done) continue;
        at = {{"partition_sms", real}, {"model", m.name()}, {"batch", batch}};
        check_interrupt();
        try {
          std::unique_ptr<Inference> inf = part->Prepare(m, batch);
          if (o.warmup > 0) inf->TimeFull(o.warmup);
          const std::vector<int64_t> unit_ns = inf->TimeUnits(3);
          const std::string mode = inf->LaunchMode();
          if (!launch_modes.contains(mode)) launch_modes[mode] = nlohmann::ordered_json::array();
          if (launch_modes[mode].size() < 20) launch_modes[mode].push_back(at);
          if (whole && !units_done.count({m.name(), batch})) {
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
            units.flush();
          }
          for (double q : o.quotas) {
            const std::string quota = Fixed(100 * q, 2);
            if (done.count(PointKey{real, m.name(), batch, quota})) continue;
            at = {{"partition_sms", real}, {"model", m.name()}, {"batch", batch}, {"quota_percent", 100 * q}};
            check_interrupt();
            TokenGate gate(q, window_ns);
            std::vector<double> runs;
            std::string rows;
            for (int r = 0; r < o.repetitions; ++r) {
              gate.Reset();
              GatedRun(gate, *inf, unit_ns);
              const double ms = inf->LastRunMs();
              runs.push_back(ms);
              rows += m.name() + ',' + gpu + ',' + std::to_string(batch) + ',' + Fixed(sm_percent, 4) + ',' + quota + ',' +
                      Fixed(ms, 5) + ',' + std::to_string(real) + ',' + std::to_string(r) + '\n';
            }
            f << rows << std::flush;  // a point's rows reach the disk together
            points += o.repetitions;
            failures_in_a_row = 0;
            if (whole && q == 1.0) whole_gpu_ms[{m.name(), batch}] = Median(runs);
          }
        } catch (const GpuError& e) {
          note_failure(at, e);
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
    int half = 0;
    for (int s : allowed) {
      if (2 * s <= info.sm_count) half = std::max(half, s);
    }
    if (half == 0) {
      progress << "calibrate: the GPU cannot be split in two; no co-located pairs\n";
    } else {
      std::vector<std::string> kept_pair_rows;
      for (const KeptPair& kept : kept_pairs) kept_pair_rows.push_back(kept.text);
      WriteAtomically(dir / "interference.csv", joined(pairs_header, kept_pair_rows));
      std::ofstream pairs(dir / "interference.csv", std::ios::app);
      const int pb = o.pair_batch;
      // Each model's DRAM utilisation on the whole GPU: bytes moved / (latency x peak bandwidth).
      std::map<std::string, double> dram_util;
      {
        at = {{"pairs", "whole-GPU latencies"}};
        check_interrupt();
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
      for (const KeptPair& kept : kept_pairs) {
        real_half = kept.partition_sms;
        sum_measured += kept.measured;
        sum_modelled += kept.modelled;
        sum_abs_error += std::abs(kept.measured - kept.modelled);
        ++pair_count;
      }
      for (const ZooModel& a : models) {
        for (const ZooModel& b : models) {
          if (pairs_done.count({a.name(), b.name()})) continue;
          at = {{"pair", {a.name(), b.name()}}};
          check_interrupt();
          try {
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
            pairs << a.name() << ',' << pb << ',' << b.name() << ',' << pb << ',' << real_half << ',' << Fixed(solo, 5)
                  << ',' << Fixed(colocated, 5) << ',' << Fixed(colocated / solo, 4) << ',' << Fixed(ua, 4) << ','
                  << Fixed(ub, 4) << ',' << Fixed(predicted, 4) << '\n'
                  << std::flush;
            failures_in_a_row = 0;
          } catch (const GpuError& e) {
            note_failure(at, e);
          }
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
  meta["failures"] = failures;
  meta["launch_modes"] = launch_modes;
  meta["timing_s"] = {{"total", seconds_before + SecondsSince(t_start)},
                      {"last_part", SecondsSince(t_start)},
                      {"earlier_parts", seconds_before},
                      {"grid_last_part", grid_seconds},
                      {"partitions_last_part", partitions},
                      {"pairs", pair_meta}};
  {
    std::ofstream f = OpenForWrite(dir / "metadata.json");
    f << meta.dump(2) << '\n';
    f.close();
    if (!f) throw InputError((dir / "metadata.json").string() + ": write failed");
  }
  fs::remove(dir / "PLAN.json");
  fs::rename(dir, final_dir);
  progress << "calibrate: " << points << " measurements in " << Fixed(seconds_before + SecondsSince(t_start), 1) << " s -> "
           << final_dir.string() << "\n";
}

}  // namespace gpuslice
