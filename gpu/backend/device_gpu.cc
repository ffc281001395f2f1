#include "gpu/backend/device_gpu.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <thread>

#include "gpu/calibrate/token_gate.h"
#include "sim/util/error.h"

namespace gpuslice {
namespace {

std::string Normalized(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Every batch size up to `max_batch` when it is at most kExactUpTo; beyond, every power of
// two below it, and it.
constexpr int kExactUpTo = 16;
std::vector<int> PreparedSizes(int max_batch) {
  std::vector<int> sizes;
  for (int b = 1; b < max_batch; b = b < kExactUpTo ? b + 1 : b * 2) sizes.push_back(b);
  sizes.push_back(std::max(1, max_batch));
  return sizes;
}

}  // namespace

std::vector<ZooModel> ZooModelsFor(const std::vector<std::string>& model_names, const std::string& zoo_dir, int sequence) {
  const std::vector<std::string> zoo = ListZoo(zoo_dir);
  std::vector<ZooModel> out;
  for (const std::string& name : model_names) {
    auto it = std::find_if(zoo.begin(), zoo.end(), [&](const std::string& z) { return Normalized(z) == Normalized(name); });
    if (it == zoo.end()) {
      std::string known;
      for (const std::string& z : zoo) known += (known.empty() ? "" : ", ") + z;
      throw InputError("model '" + name + "': the GPU backend runs zoo models, and " + zoo_dir +
                       " has none of that name (it has " + known + "; case, '-' and '_' are ignored)");
    }
    out.push_back(ZooModel::Read(zoo_dir + "/" + *it + ".json", sequence));
  }
  return out;
}

struct DeviceGpu::PartitionSlot {
  DeviceGpu* owner = nullptr;
  std::unique_ptr<Partition> partition;
  std::vector<int> groups;
  std::mutex turn;  // instances of the partition take turns by batch
  ~PartitionSlot() {
    {
      std::lock_guard<std::mutex> lock(owner->device_mu_);
      partition.reset();
    }
    owner->ReleaseGroups(groups);
  }
};

struct DeviceGpu::Worker {
  struct Job {
    int batch_size;
    std::function<void()> done;
  };
  ExternalInstance spec;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  bool stop = false;
  double quota = 1;
  int max_batch = 1;
  std::thread thread;
};

DeviceGpu::DeviceGpu(CalibrationDevice& device, std::vector<ZooModel> zoo_models, double window_ms)
    : device_(device), zoo_models_(std::move(zoo_models)), window_ms_(window_ms) {
  group_used_.assign(static_cast<size_t>(std::max(0, device_.group_count())), false);
}

DeviceGpu::~DeviceGpu() {
  std::map<int, std::unique_ptr<Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->stop = true;
    }
    w->cv.notify_one();
    if (w->thread.joinable()) w->thread.join();
  }
}

void DeviceGpu::Note(const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::find(notes_.begin(), notes_.end(), note) == notes_.end()) notes_.push_back(note);
}

void DeviceGpu::Error(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_back(error);
}

std::vector<std::string> DeviceGpu::notes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notes_;
}

std::vector<std::string> DeviceGpu::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

void DeviceGpu::ReleaseGroups(const std::vector<int>& groups) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int g : groups) group_used_[static_cast<size_t>(g)] = false;
}

std::shared_ptr<DeviceGpu::PartitionSlot> DeviceGpu::AcquirePartition(const ExternalInstance& spec) {
  const int device_sms = device_.info().sm_count;
  std::vector<int> groups;
  bool whole = false;
  std::shared_ptr<PartitionSlot> slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = partitions_.find({spec.gpu, spec.partition}); it != partitions_.end()) {
      if (std::shared_ptr<PartitionSlot> alive = it->second.lock()) return alive;
    }
    const int free = static_cast<int>(std::count(group_used_.begin(), group_used_.end(), false));
    const int group_sms = std::max(1, device_.group_sms());
    const double wanted_sms = static_cast<double>(spec.sm_count) * device_sms / std::max(1, spec.gpu_sm_count);
    whole = spec.sm_count >= spec.gpu_sm_count && free == static_cast<int>(group_used_.size());
    int count = whole ? free : static_cast<int>(std::ceil(wanted_sms / group_sms - 1e-9));
    if (count > free) count = std::max(1, std::min(free, static_cast<int>(std::floor(wanted_sms / group_sms))));
    if (!whole && (free == 0 || group_used_.empty())) {
      throw GpuError("no free SM group for a partition of " + std::to_string(spec.sm_count) + " SMs");
    }
    for (size_t g = 0; g < group_used_.size() && static_cast<int>(groups.size()) < count; ++g) {
      if (!group_used_[g]) {
        group_used_[g] = true;
        groups.push_back(static_cast<int>(g));
      }
    }
    slot = std::make_shared<PartitionSlot>();
    slot->owner = this;
    slot->groups = groups;
    partitions_[{spec.gpu, spec.partition}] = slot;
  }
  {
    std::lock_guard<std::mutex> lock(device_mu_);
    slot->partition = whole ? device_.OpenPartition(device_sms) : device_.OpenGroups(groups);
  }
  const int got = slot->partition->sm_count();
  const double wanted = static_cast<double>(spec.sm_count) * device_sms / std::max(1, spec.gpu_sm_count);
  if (std::abs(got - wanted) > 0.5) {
    Note("a partition of " + std::to_string(spec.sm_count) + " of " + std::to_string(spec.gpu_sm_count) +
         " simulated SMs (" + std::to_string(static_cast<int>(std::lround(wanted))) + " of the device's " +
         std::to_string(device_sms) + ") runs on " + std::to_string(got) + " SMs (whole SM groups of " +
         std::to_string(device_.group_sms()) + ")");
  }
  return slot;
}

void DeviceGpu::StartInstance(const ExternalInstance& instance) {
  auto w = std::make_unique<Worker>();
  w->spec = instance;
  w->quota = instance.quota;
  w->max_batch = instance.max_batch;
  Worker* raw = w.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_[instance.instance] = std::move(w);
    ++preparing_;
  }
  raw->thread = std::thread([this, raw] { RunWorker(raw); });
}

void DeviceGpu::SetQuota(int instance, double quota) {
  std::lock_guard<std::mutex> lock(mu_);
  Worker* w = workers_.at(instance).get();
  std::lock_guard<std::mutex> wlock(w->mu);
  w->quota = quota;
}

void DeviceGpu::SetMaxBatch(int instance, int max_batch) {
  std::lock_guard<std::mutex> lock(mu_);
  Worker* w = workers_.at(instance).get();
  std::lock_guard<std::mutex> wlock(w->mu);
  w->max_batch = max_batch;
}

void DeviceGpu::RunBatch(int instance, int batch_size, std::function<void()> done) {
  Worker* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    w = workers_.at(instance).get();
  }
  {
    std::lock_guard<std::mutex> lock(w->mu);
    w->jobs.push_back({batch_size, std::move(done)});
  }
  w->cv.notify_one();
}

void DeviceGpu::StopInstance(int instance) {
  Worker* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    w = workers_.at(instance).get();
  }
  {
    std::lock_guard<std::mutex> lock(w->mu);
    w->stop = true;
  }
  w->cv.notify_one();
}

void DeviceGpu::WaitPrepared() {
  std::unique_lock<std::mutex> lock(mu_);
  prepared_cv_.wait(lock, [&] { return preparing_ == 0; });
}

void DeviceGpu::RunWorker(Worker* w) {
  struct Prepared {
    std::unique_ptr<Inference> inference;
    std::vector<int64_t> unit_ns;
  };
  const ExternalInstance spec = w->spec;
  const ZooModel& model = zoo_models_.at(static_cast<size_t>(spec.model));
  const std::string who = "instance " + std::to_string(spec.instance) + " (" + model.name() + ")";
  std::shared_ptr<PartitionSlot> slot;
  std::map<int, Prepared> prepared;
  std::string failed;
  auto prepare = [&](int batch) {
    std::lock_guard<std::mutex> lock(device_mu_);
    Prepared p;
    p.inference = slot->partition->Prepare(model, batch);
    p.inference->TimeFull(2);
    p.unit_ns = p.inference->TimeUnits(3);
    Note(model.name() + " launches: " + p.inference->LaunchMode());
    prepared[batch] = std::move(p);
  };
  try {
    slot = AcquirePartition(spec);
    int max_batch = 0;
    {
      std::lock_guard<std::mutex> lock(w->mu);
      max_batch = w->max_batch;
    }
    for (int b : PreparedSizes(max_batch)) prepare(b);
  } catch (const std::exception& e) {
    failed = e.what();
    Error(who + ": " + failed);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    --preparing_;
  }
  prepared_cv_.notify_all();
  const int64_t window_ns = static_cast<int64_t>(std::llround(window_ms_ * 1e6));
  std::unique_ptr<TokenGate> gate;
  double gate_quota = -1;
  for (;;) {
    Worker::Job job;
    double quota = 1;
    {
      std::unique_lock<std::mutex> lock(w->mu);
      w->cv.wait(lock, [&] { return w->stop || !w->jobs.empty(); });
      if (w->jobs.empty()) break;  // stopped, nothing left
      job = std::move(w->jobs.front());
      w->jobs.pop_front();
      quota = w->quota;
    }
    if (failed.empty()) {
      try {
        auto it = prepared.lower_bound(job.batch_size);
        if (it == prepared.end()) {
          prepare(job.batch_size);  // the largest batch grew since the start
          it = prepared.find(job.batch_size);
        }
        if (it->first != job.batch_size) {
          Note("batches are padded to the next prepared size (" + model.name() + ": " + std::to_string(job.batch_size) +
               " ran as " + std::to_string(it->first) + ", and others)");
        }
        if (!gate || quota != gate_quota) {
          gate = std::make_unique<TokenGate>(std::min(1.0, std::max(quota, 1e-3)), window_ns);
          gate_quota = quota;
        }
        std::lock_guard<std::mutex> turn(slot->turn);
        GatedRun(*gate, *it->second.inference, it->second.unit_ns);
      } catch (const std::exception& e) {
        Error(who + ", a batch of " + std::to_string(job.batch_size) + ": " + e.what());
      }
    }
    job.done();
  }
  prepared.clear();
  slot.reset();
}

}  // namespace gpuslice
