// ParallelFor: independent runs on local cores, for compare and sweep.
#ifndef GPUSLICE_TOOLS_PARALLEL_H_
#define GPUSLICE_TOOLS_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include <sched.h>

namespace gpuslice {

// The number of threads for `-j jobs` (0 = every core) and `count` tasks: at least 1.
inline int ThreadsFor(int jobs, size_t count) {
  int n = jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min(n, static_cast<int>(std::max<size_t>(count, 1))));
}

// The cores this process may run on (its CPU affinity, as a Slurm allocation or taskset
// sets it), at least 1.
inline int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Whether `threads` runs in parallel leave a core for their helper threads
// (RunOptions::helper_threads): fewer runs than cores, unless `disabled`.
inline bool HelperThreadsFit(int threads, bool disabled) { return !disabled && threads < AvailableCores(); }

// The help of the flag --no-helper-threads, for every command that has it.
inline constexpr const char* kNoHelperThreadsHelp =
    "Run each simulation on one thread. By default a run with a core to spare (fewer runs at once than cores) reads "
    "its arrivals ahead and updates its counters on two helper threads: the same results, in less wall time";

// Calls body(i) for every i in [0, count) on `threads` threads, handing out indices in order
// (one thread: in order on the calling thread). Once a call throws, no new index is handed
// out. Returns each index's exception (null when it ran without one, or never started; use
// `started` to tell). REQUIRES: threads >= 1.
template <typename Body>
std::vector<std::exception_ptr> ParallelFor(size_t count, int threads, Body body, std::vector<bool>* started = nullptr) {
  std::vector<std::exception_ptr> errors(count);
  std::vector<char> began(count, 0);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (;;) {
      if (failed.load()) return;
      const size_t i = next.fetch_add(1);
      if (i >= count) return;
      began[i] = 1;
      try {
        body(i);
      } catch (...) {
        errors[i] = std::current_exception();
        failed.store(true);
      }
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }
  if (started) started->assign(began.begin(), began.end());
  return errors;
}

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_PARALLEL_H_
