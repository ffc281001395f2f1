// ExternalSorter: sorts fixed-size records of (time, sequence, value) in bounded memory.
//
// Records are gathered in chunks of at most `chunk_records`; each full chunk is sorted and
// spilled to an anonymous temporary file; reading merges the runs. Memory is
// O(chunk_records + runs), whatever the number of records. Ties in time keep the order of
// their sequence numbers, so the sort is stable in the input's order.
#ifndef GPUSLICE_TRACES_EXTERNAL_SORT_H_
#define GPUSLICE_TRACES_EXTERNAL_SORT_H_

#include <cstdint>
#include <cstdio>
#include <vector>

namespace gpuslice {

struct SortRecord {
  int64_t time;
  int64_t seq;
  int32_t value;
  int32_t extra;
};

class ExternalSorter {
 public:
  explicit ExternalSorter(size_t chunk_records = size_t{1} << 22);
  ~ExternalSorter();
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  // REQUIRES: Finish() not yet called.
  void Add(const SortRecord& r);
  // Ends the input; reading may begin.
  void Finish();
  // The next record in (time, seq) order; false at the end.
  bool Next(SortRecord* out);

  size_t runs() const { return runs_.size(); }

 private:
  struct Run {
    FILE* file;
    std::vector<SortRecord> buffer;
    size_t pos = 0;
    bool Refill();
  };
  void Spill();

  size_t chunk_records_;
  std::vector<SortRecord> chunk_;
  std::vector<Run> runs_;
  std::vector<size_t> heap_;  // run indices, min-heap on their current record
  bool in_memory_ = false;
  size_t pos_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_TRACES_EXTERNAL_SORT_H_
