// The `trace info` and `trace convert` subcommands of the gpuslice command line.
#ifndef GPUSLICE_TOOLS_CLI_TRACE_H_
#define GPUSLICE_TOOLS_CLI_TRACE_H_

#include <string>
#include <vector>

namespace gpuslice {

struct TraceCommand {
  std::string file;
  std::string format;
  // The function of a single-service format's requests (azure-llm, mooncake); by default
  // the file's stem without a compression suffix ("AzureLLMInferenceTrace_conv"): a file's
  // summary needs no name.
  std::string function;
  std::vector<std::string> sets; // source keys: key=value
  bool skip_bad_rows = false;
  bool json = false;
  size_t top = 10;
  std::string output;            // convert: the CSV to write
  bool force = false;            // convert: overwrite an existing output
};

// Exit codes as for run: 0 success, 2 bad input, 3 internal error, 130 interrupted.
// convert checks -o before reading (not a folder, in a folder that exists) and writes through
// a temporary beside it, renamed at the end and removed on any error or interruption.
int ExecuteTraceInfo(const TraceCommand& cmd);
int ExecuteTraceConvert(const TraceCommand& cmd);

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_TRACE_H_
