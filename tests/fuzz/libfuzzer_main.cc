// The libFuzzer entry point of one target, named at compile time by GPUSLICE_FUZZ_TARGET
// (tests/fuzz/CMakeLists.txt builds fuzz_<target> for each).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_targets.h"

#ifndef GPUSLICE_FUZZ_TARGET
#error "GPUSLICE_FUZZ_TARGET must name the target"
#endif

namespace {

gpuslice::fuzz::TargetFn Fn() {
  static const gpuslice::fuzz::TargetFn fn = [] {
    const gpuslice::fuzz::Target* t = gpuslice::fuzz::FindTarget(GPUSLICE_FUZZ_TARGET);
    if (t == nullptr) {
      std::fprintf(stderr, "no fuzz target '%s'\n", GPUSLICE_FUZZ_TARGET);
      std::abort();
    }
    return t->fn;
  }();
  return fn;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // InputError is caught inside (the expected outcome for bad input); any other exception
  // escapes and terminates: libFuzzer reports it as a crash and keeps the input.
  Fn()(data, size);
  return 0;
}
