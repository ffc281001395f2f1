// Streaming a large plain-CSV trace: rows parsed per second and peak RSS.
//
// Usage: trace_bench [ROWS] [PATH]   (default 20,000,000 rows in /tmp/gpuslice-trace-bench.csv)
// Writes the file first if it does not exist with that many rows: 100 functions, Poisson
// arrivals at 10,000 rps. Then reads it twice through the workload layer (the discovery
// pass that counts functions, then the replay), as a scenario does.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "sim/engine/rng.h"
#include "traces/workload.h"

namespace {

double PeakRssMb() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gpuslice;
  const long long rows = argc > 1 ? std::atoll(argv[1]) : 20'000'000;
  const std::string path = argc > 2 ? argv[2] : "/tmp/gpuslice-trace-bench-" + std::to_string(rows) + ".csv";
  if (!std::filesystem::exists(path)) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 1;
    std::fputs("time_s,function\n", f);
    RngStream rng(1, "bench/trace");
    double t = 0;
    for (long long i = 0; i < rows; ++i) {
      t += rng.Exponential(1e-4);
      std::fprintf(f, "%.6f,fn%02llu\n", t, static_cast<unsigned long long>(rng.Below(100)));
    }
    std::fclose(f);
  }
  const double size_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::ordered_json source = nlohmann::ordered_json::array({{{"type", "csv"}, {"file", path}}});
  std::vector<WorkloadSource> sources = ParseWorkload("bench", source, "/workload", "");
  const auto t1 = std::chrono::steady_clock::now();
  NameIndex index;
  for (const std::string& f : sources[0].functions) index.emplace(f, static_cast<int32_t>(index.size()));
  Workload workload(sources, 1, index);
  Arrival a;
  long long n = 0;
  while (workload.stream().Next(&a)) ++n;
  const auto t2 = std::chrono::steady_clock::now();
  const double discover_s = std::chrono::duration<double>(t1 - t0).count();
  const double replay_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("%s: %lld rows, %.0f MB, %zu functions\n", path.c_str(), n, size_mb, index.size());
  std::printf("discovery pass %.2f s (%.2f M rows/s), replay pass %.2f s (%.2f M rows/s, %.0f MB/s)\n", discover_s,
              n / discover_s / 1e6, replay_s, n / replay_s / 1e6, size_mb / replay_s);
  std::printf("peak RSS %.1f MB\n", PeakRssMb());
  return n == rows ? 0 : 1;
}
