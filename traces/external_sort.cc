#include "traces/external_sort.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gpuslice {
namespace {

bool Less(const SortRecord& a, const SortRecord& b) { return a.time < b.time || (a.time == b.time && a.seq < b.seq); }

constexpr size_t kReadRecords = 1 << 14;

}  // namespace

ExternalSorter::ExternalSorter(size_t chunk_records) : chunk_records_(std::max<size_t>(1, chunk_records)) {}

ExternalSorter::~ExternalSorter() {
  for (Run& r : runs_) std::fclose(r.file);
}

void ExternalSorter::Add(const SortRecord& r) {
  chunk_.push_back(r);
  if (chunk_.size() >= chunk_records_) Spill();
}

void ExternalSorter::Spill() {
  std::sort(chunk_.begin(), chunk_.end(), Less);
  FILE* f = std::tmpfile();
  if (f == nullptr) throw std::runtime_error(std::string("cannot create a temporary file: ") + std::strerror(errno));
  if (std::fwrite(chunk_.data(), sizeof(SortRecord), chunk_.size(), f) != chunk_.size() || std::fflush(f) != 0) {
    std::fclose(f);
    throw std::runtime_error(std::string("cannot write a temporary file: ") + std::strerror(errno));
  }
  std::rewind(f);
  runs_.push_back(Run{f, {}, 0});
  chunk_.clear();
}

bool ExternalSorter::Run::Refill() {
  buffer.resize(kReadRecords);
  const size_t got = std::fread(buffer.data(), sizeof(SortRecord), kReadRecords, file);
  buffer.resize(got);
  pos = 0;
  return got > 0;
}

void ExternalSorter::Finish() {
  if (runs_.empty()) {
    std::sort(chunk_.begin(), chunk_.end(), Less);
    in_memory_ = true;
    return;
  }
  if (!chunk_.empty()) Spill();
  chunk_.shrink_to_fit();
  auto greater = [this](size_t a, size_t b) {
    return Less(runs_[b].buffer[runs_[b].pos], runs_[a].buffer[runs_[a].pos]);
  };
  for (size_t i = 0; i < runs_.size(); ++i) {
    if (runs_[i].Refill()) heap_.push_back(i);
  }
  std::make_heap(heap_.begin(), heap_.end(), greater);
}

bool ExternalSorter::Next(SortRecord* out) {
  if (in_memory_) {
    if (pos_ >= chunk_.size()) return false;
    *out = chunk_[pos_++];
    return true;
  }
  if (heap_.empty()) return false;
  auto greater = [this](size_t a, size_t b) {
    return Less(runs_[b].buffer[runs_[b].pos], runs_[a].buffer[runs_[a].pos]);
  };
  std::pop_heap(heap_.begin(), heap_.end(), greater);
  Run& run = runs_[heap_.back()];
  *out = run.buffer[run.pos++];
  if (run.pos < run.buffer.size() || run.Refill()) {
    std::push_heap(heap_.begin(), heap_.end(), greater);
  } else {
    heap_.pop_back();
  }
  return true;
}

}  // namespace gpuslice
