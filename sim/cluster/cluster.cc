#include "sim/cluster/cluster.h"

#include <algorithm>
#include <cmath>

#include "sim/scenario.h"

namespace gpuslice {
namespace {

constexpr double kQuotaSlack = 1e-9;

}  // namespace

Cluster::Cluster(const Scenario& scenario) : meters_(scenario.models.size()) {
  int node = 0;
  for (const NodeGroup& group : scenario.node_groups) {
    for (int n = 0; n < group.count; ++n, ++node) {
      for (int k = 0; k < group.gpus_per_node; ++k) {
        Gpu g;
        g.id = static_cast<int>(gpus_.size());
        g.node = node;
        g.spec = group.gpu;
        g.price_per_hour = group.price_per_hour;
        empty_gpus_.insert(g.id);
        gpus_.push_back(std::move(g));
      }
    }
  }
}

int Cluster::FirstEmptyGpu() const { return empty_gpus_.empty() ? -1 : *empty_gpus_.begin(); }

void Cluster::MeterSlice(const Slice& s, SimTime now, double sign) {
  const Gpu& g = gpus_[static_cast<size_t>(s.gpu)];
  const double share = static_cast<double>(s.sm_count) / g.spec->sm_count * s.quota;
  CostMeters& m = meters_[static_cast<size_t>(s.model)];
  m.fractional_gpu.AddRate(now, sign * share);
  m.fractional_usd.AddRate(now, sign * share * g.price_per_hour / 3600.0);
  m.sm_held.AddRate(now, sign * s.sm_count * s.quota);
}

void Cluster::MeterWholeGpu(int gi, SimTime now, double sign) {
  const Gpu& g = gpus_[static_cast<size_t>(gi)];
  double total = 0;
  for (int sid : g.slices) total += slices_[static_cast<size_t>(sid)].sm_count * slices_[static_cast<size_t>(sid)].quota;
  for (int sid : g.slices) {
    const Slice& s = slices_[static_cast<size_t>(sid)];
    const double share = sign * s.sm_count * s.quota / total;
    meters_[static_cast<size_t>(s.model)].whole_gpu.AddRate(now, share);
    meters_[static_cast<size_t>(s.model)].whole_usd.AddRate(now, share * g.price_per_hour / 3600.0);
  }
}

int Cluster::AllocateSlice(const SliceRequest& r, SimTime now, std::string* why) {
  if (r.gpu < 0 || r.gpu >= gpu_count()) {
    *why = "no GPU " + std::to_string(r.gpu);
    return -1;
  }
  Gpu& g = gpus_[static_cast<size_t>(r.gpu)];
  if (!(r.quota > 0 && r.quota <= 1.0)) {
    *why = "quota must be in (0, 1]";
    return -1;
  }
  if (r.memory_mb > g.free_memory_mb()) {
    *why = "GPU " + std::to_string(g.id) + " has " + std::to_string(g.free_memory_mb()) +
           " MB free, slice needs " + std::to_string(r.memory_mb);
    return -1;
  }
  int sm_count = r.sm_count;
  if (r.partition < 0) {
    if (sm_count <= 0 || sm_count > g.free_sm()) {
      *why = "GPU " + std::to_string(g.id) + " has " + std::to_string(g.free_sm()) +
             " SMs free, partition needs " + std::to_string(sm_count);
      return -1;
    }
  } else {
    if (r.partition >= static_cast<int>(g.partitions.size()) ||
        g.partitions[static_cast<size_t>(r.partition)].sm_count == 0) {
      *why = "GPU " + std::to_string(g.id) + " has no partition " + std::to_string(r.partition);
      return -1;
    }
    const SmPartition& p = g.partitions[static_cast<size_t>(r.partition)];
    if (sm_count != 0 && sm_count != p.sm_count) {
      *why = "partition has " + std::to_string(p.sm_count) + " SMs, slice asks " + std::to_string(sm_count);
      return -1;
    }
    sm_count = p.sm_count;
    if (p.quota_used + r.quota > 1.0 + kQuotaSlack) {
      *why = "partition quotas would sum past 1";
      return -1;
    }
    if (p.whole_batches != r.whole_batches) {
      *why = "partition shares time by " + std::string(p.whole_batches ? "whole batches" : "token quotas");
      return -1;
    }
  }
  MeterWholeGpu(g.id, now, -1);
  int partition = r.partition;
  if (partition < 0) {
    partition = static_cast<int>(g.partitions.size());
    for (size_t i = 0; i < g.partitions.size(); ++i) {
      if (g.partitions[i].sm_count == 0) {
        partition = static_cast<int>(i);
        break;
      }
    }
    if (partition == static_cast<int>(g.partitions.size())) g.partitions.emplace_back();
    g.partitions[static_cast<size_t>(partition)] = SmPartition{sm_count, 0.0, 0, r.whole_batches};
    g.sm_used += sm_count;
  }
  SmPartition& p = g.partitions[static_cast<size_t>(partition)];
  p.quota_used += r.quota;
  ++p.slices;
  Slice s;
  s.id = static_cast<int>(slices_.size());
  s.gpu = g.id;
  s.partition = partition;
  s.sm_count = sm_count;
  s.quota = r.quota;
  s.memory_mb = r.memory_mb;
  s.model = r.model;
  s.live = true;
  s.whole_batches = r.whole_batches;
  slices_.push_back(s);
  if (g.slices.empty()) ++gpus_held_, empty_gpus_.erase(g.id);
  g.slices.push_back(s.id);
  g.memory_used_mb += r.memory_mb;
  MeterSlice(s, now, +1);
  MeterWholeGpu(g.id, now, +1);
  Changed(g.id);
  return s.id;
}

void Cluster::FreeSlice(int id, SimTime now) {
  Slice& s = slices_[static_cast<size_t>(id)];
  Gpu& g = gpus_[static_cast<size_t>(s.gpu)];
  MeterWholeGpu(g.id, now, -1);
  MeterSlice(s, now, -1);
  SmPartition& p = g.partitions[static_cast<size_t>(s.partition)];
  p.quota_used -= s.quota;
  if (--p.slices == 0) {
    g.sm_used -= p.sm_count;
    p = SmPartition{};
  }
  g.memory_used_mb -= s.memory_mb;
  g.slices.erase(std::find(g.slices.begin(), g.slices.end(), id));
  if (g.slices.empty()) --gpus_held_, empty_gpus_.insert(g.id);
  s.live = false;
  MeterWholeGpu(g.id, now, +1);
  Changed(g.id);
}

bool Cluster::SetQuota(int id, double quota, SimTime now, std::string* why) {
  Slice& s = slices_[static_cast<size_t>(id)];
  Gpu& g = gpus_[static_cast<size_t>(s.gpu)];
  SmPartition& p = g.partitions[static_cast<size_t>(s.partition)];
  if (!(quota > 0 && quota <= 1.0)) {
    *why = "quota must be in (0, 1]";
    return false;
  }
  if (p.quota_used - s.quota + quota > 1.0 + kQuotaSlack) {
    *why = "partition quotas would sum past 1";
    return false;
  }
  MeterWholeGpu(g.id, now, -1);
  MeterSlice(s, now, -1);
  p.quota_used += quota - s.quota;
  s.quota = quota;
  MeterSlice(s, now, +1);
  MeterWholeGpu(g.id, now, +1);
  Changed(g.id);
  return true;
}

std::string Cluster::CheckInvariants() const {
  for (const Gpu& g : gpus_) {
    int sm = 0;
    long memory = 0;
    std::vector<double> quota(g.partitions.size(), 0.0);
    for (int sid : g.slices) {
      const Slice& s = slices_[static_cast<size_t>(sid)];
      if (!s.live || s.gpu != g.id) return "GPU " + std::to_string(g.id) + " lists a dead or foreign slice";
      const SmPartition& p = g.partitions[static_cast<size_t>(s.partition)];
      if (p.sm_count != s.sm_count) return "slice " + std::to_string(sid) + " SMs differ from its partition";
      quota[static_cast<size_t>(s.partition)] += s.quota;
      memory += s.memory_mb;
    }
    for (size_t i = 0; i < g.partitions.size(); ++i) {
      sm += g.partitions[i].sm_count;
      if (quota[i] > 1.0 + kQuotaSlack) return "GPU " + std::to_string(g.id) + " partition quotas exceed 1";
    }
    if (sm > g.spec->sm_count) return "GPU " + std::to_string(g.id) + " partitions exceed its SMs";
    if (memory > g.spec->memory_mb) return "GPU " + std::to_string(g.id) + " slices exceed its memory";
    if (g.empty() != (empty_gpus_.count(g.id) > 0)) return "GPU " + std::to_string(g.id) + " misfiled as empty";
  }
  return "";
}

}  // namespace gpuslice
