// InputError: a problem with something the user gave us (a scenario, a profile, a trace).
//
// Its message is complete and one line: it names the file and the line or JSON path, then
// says what is wrong, e.g. "scenario.json: /models/resnet50/slo_ms: must be > 0 (got -5)".
// The command line prints it as is and exits with code 2.
#ifndef GPUSLICE_SIM_UTIL_ERROR_H_
#define GPUSLICE_SIM_UTIL_ERROR_H_

#include <stdexcept>
#include <string>

namespace gpuslice {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// "file:line: what"
inline InputError LineError(const std::string& file, long line, const std::string& what) {
  return InputError(file + ":" + std::to_string(line) + ": " + what);
}

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_ERROR_H_
