// Interruption: the process-wide "stop now" flag that SIGINT and SIGTERM set, and the
// exception that unwinds a command when it is seen.
//
// Long loops that the command line runs (reading a trace, a profile, a sweep) call
// ThrowIfInterrupted() now and then, so that every subcommand stops promptly on Ctrl-C with
// exit code 130 and, through the atomic writers, leaves no file behind.
#ifndef GPUSLICE_SIM_UTIL_INTERRUPT_H_
#define GPUSLICE_SIM_UTIL_INTERRUPT_H_

#include <atomic>
#include <stdexcept>

namespace gpuslice {

// Raised when a command is interrupted (Ctrl-C, SIGTERM).
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// The flag the signal handlers set. Async-signal-safe to store to (lock-free).
std::atomic<bool>& InterruptFlag();

inline bool InterruptRequested() { return InterruptFlag().load(std::memory_order_relaxed); }

// Throws Interrupted if the flag is set.
inline void ThrowIfInterrupted() {
  if (InterruptRequested()) throw Interrupted();
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_INTERRUPT_H_
