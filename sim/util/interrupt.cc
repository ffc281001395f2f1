#include "sim/util/interrupt.h"

namespace gpuslice {

std::atomic<bool>& InterruptFlag() {
  static std::atomic<bool> flag{false};
  static_assert(std::atomic<bool>::is_always_lock_free);
  return flag;
}

}  // namespace gpuslice
