// The fuzz targets: each feeds its bytes to one input reader of gpuslice. A target returns
// normally when the reader accepts the input or rejects it with gpuslice::InputError (the
// expected outcome for bad input); anything else (another exception, a crash, a sanitizer
// report, a hang, a memory blow-up) is a finding.
//
// The same functions are linked into the libFuzzer binaries (libfuzzer_main.cc, built by
// tests/fuzz/run.sh with clang) and into gpuslice_fuzz_replay (replay_main.cc, any
// compiler), which replays saved inputs as ordinary CTest tests.
#ifndef GPUSLICE_TESTS_FUZZ_FUZZ_TARGETS_H_
#define GPUSLICE_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gpuslice::fuzz {

// What a target made of one input.
enum class Outcome { kAccepted, kInputError };

using TargetFn = Outcome (*)(const uint8_t* data, size_t size);

struct Target {
  const char* name;
  TargetFn fn;
};

// Every target, by name (the folder names under tests/fuzz/corpus and regressions).
const std::vector<Target>& Targets();
const Target* FindTarget(const std::string& name);

// The message of the InputError of the last input that raised one (for the replay's log).
const std::string& LastInputError();

Outcome ScenarioFile(const uint8_t* data, size_t size);
Outcome TraceCsv(const uint8_t* data, size_t size);
Outcome TraceAzure2019(const uint8_t* data, size_t size);
Outcome TraceAzure2019Durations(const uint8_t* data, size_t size);
Outcome TraceAzure2019Memory(const uint8_t* data, size_t size);
Outcome TraceAzure2021(const uint8_t* data, size_t size);
Outcome TraceAzureLlm(const uint8_t* data, size_t size);
Outcome TraceAlibaba(const uint8_t* data, size_t size);
Outcome TraceMooncake(const uint8_t* data, size_t size);
Outcome TraceStages(const uint8_t* data, size_t size);
Outcome ProfileCsv(const uint8_t* data, size_t size);
Outcome SetOverride(const uint8_t* data, size_t size);

}  // namespace gpuslice::fuzz

#endif  // GPUSLICE_TESTS_FUZZ_FUZZ_TARGETS_H_
