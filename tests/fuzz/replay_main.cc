// gpuslice_fuzz_replay: runs saved inputs through a fuzz target without libFuzzer, so that
// every crash found becomes an ordinary CTest test (tests/fuzz/CMakeLists.txt).
//
//   gpuslice_fuzz_replay [--expect-error] TARGET FILE_OR_FOLDER...
//
// Prints one line per input: "accepted" or the InputError's message. Exits 0 when every input
// was accepted or rejected with an InputError (with --expect-error: rejected, every one),
// 1 when an input was not, 2 on a usage error. Anything else the target does (another
// exception, a sanitizer report, a crash) ends the process with a failure status.
#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.h"

namespace fs = std::filesystem;
using gpuslice::fuzz::Outcome;

int main(int argc, char** argv) {
  bool expect_error = false;
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "--expect-error") == 0) {
    expect_error = true;
    ++i;
  }
  if (argc - i < 2) {
    std::cerr << "usage: gpuslice_fuzz_replay [--expect-error] TARGET FILE_OR_FOLDER...\ntargets:";
    for (const auto& t : gpuslice::fuzz::Targets()) std::cerr << " " << t.name;
    std::cerr << "\n";
    return 2;
  }
  const gpuslice::fuzz::Target* target = gpuslice::fuzz::FindTarget(argv[i]);
  if (target == nullptr) {
    std::cerr << "gpuslice_fuzz_replay: no target '" << argv[i] << "'\n";
    return 2;
  }
  std::vector<fs::path> inputs;
  for (++i; i < argc; ++i) {
    fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(p)) {
        if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(p)) {
      inputs.push_back(p);
    } else {
      std::cerr << "gpuslice_fuzz_replay: " << p.string() << ": no such file or folder\n";
      return 2;
    }
  }
  int failures = 0;
  for (const fs::path& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cout << p.string() << " (" << bytes.size() << " bytes): " << std::flush;
    try {
      const Outcome o = target->fn(bytes.data(), bytes.size());
      if (o == Outcome::kInputError) {
        std::cout << "InputError: " << gpuslice::fuzz::LastInputError() << "\n";
      } else {
        std::cout << "accepted\n";
        if (expect_error) {
          std::cout << "  FAIL: expected an InputError\n";
          ++failures;
        }
      }
    } catch (const std::exception& e) {
      std::cout << "\n  FAIL: an exception other than InputError: " << e.what() << "\n";
      ++failures;
    }
  }
  std::cout << inputs.size() << " inputs, " << failures << " failed\n";
  return failures == 0 ? 0 : 1;
}
