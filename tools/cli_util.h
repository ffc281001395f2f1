// Shared by the gpuslice subcommands: option checks, output paths, warnings, exceptions to
// exit codes.
//
// The rule for bad input (issue 16): every error a user can cause is one line on stderr that
// names the option (or the file and line, or the JSON path) and says what is wrong, exit code
// 2, and no output file left behind.
#ifndef GPUSLICE_TOOLS_CLI_UTIL_H_
#define GPUSLICE_TOOLS_CLI_UTIL_H_

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include "gpu/calibrate/device.h"
#include "sim/simulation.h"
#include "sim/util/error.h"
#include "sim/util/files.h"
#include "sim/util/interrupt.h"

namespace gpuslice {

inline constexpr long long kMaxSeed = std::numeric_limits<long long>::max();  // a scenario's seed is >= 0 and a JSON int64

// ---- Option checks (CLI11 validators). CLI11 runs them on the text before converting it and
// reports "--option: <message>"; the messages are short and say what is allowed.

// An integer in [lo, hi], written in decimal (no sign but '-', no fraction, no exponent).
inline CLI::Validator IntegerIn(long long lo, long long hi) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        long long v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) {
          return "'" + text + "' is not an integer in " + range;
        }
        return std::string();
      },
      "INT in " + range);
}

inline std::string NumberText(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// A finite number in the interval from lo to hi, each end open or closed; hi may be infinite.
inline CLI::Validator NumberIn(double lo, bool lo_open, double hi, bool hi_open) {
  const std::string range = std::string(lo_open ? "(" : "[") + NumberText(lo) + ", " +
                            (std::isinf(hi) ? std::string("inf") : NumberText(hi)) + (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = text.empty() ? std::nan("") : std::strtod(text.c_str(), &end);
        const bool parsed = !text.empty() && end == text.c_str() + text.size() && std::isfinite(v);
        const bool in = parsed && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
        if (!in) return "'" + text + "' is not a number in " + range;
        return std::string();
      },
      "NUMBER in " + range);
}
inline CLI::Validator PositiveNumber() {
  return NumberIn(0, true, std::numeric_limits<double>::infinity(), true);
}
// One of `names`.
inline CLI::Validator OneOf(std::vector<std::string> names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return CLI::Validator(
      [names, list](std::string& text) -> std::string {
        for (const std::string& n : names) {
          if (text == n) return std::string();
        }
        return "'" + text + "' is not one of " + list;
      },
      "one of " + list);
}
// Any text but the empty one.
inline CLI::Validator NonEmpty() {
  return CLI::Validator(
      [](std::string& text) -> std::string { return text.empty() ? "an empty value" : std::string(); }, "");
}
// A seed: an integer in [0, 2^63 - 1].
inline CLI::Validator SeedCheck() { return IntegerIn(0, kMaxSeed); }

// ---- Output paths.

// Why `path` cannot be an output file (or, with `folder`, an output folder) of this command:
// "" when it can. Creates nothing: checks that the path is not a folder (for a file) or a file
// (for a folder), nor anything but a regular file, and that its closest existing ancestor is
// a folder, so the folders missing in between can be made.
inline std::string OutputPathProblem(const std::string& path, bool folder = false) {
  namespace fs = std::filesystem;
  if (path.empty()) return "an empty path";
  std::error_code ec;
  const fs::path p(path);
  const fs::file_status st = fs::status(p, ec);
  if (fs::exists(st)) {
    if (folder) return fs::is_directory(st) ? std::string() : "exists and is not a folder";
    if (fs::is_directory(st)) return "is a folder";
    if (!fs::is_regular_file(st)) return "exists and is not a regular file";
    return std::string();
  }
  if (!folder && (path.back() == '/' || p.filename() == "." || p.filename() == "..")) return "names a folder";
  fs::path parent = p.parent_path();
  while (!parent.empty()) {
    std::error_code pec;
    const fs::file_status ps = fs::status(parent, pec);
    if (fs::exists(ps)) {
      if (!fs::is_directory(ps)) return parent.string() + " is not a folder";
      if (::access(parent.c_str(), W_OK | X_OK) != 0) return "cannot write in " + parent.string();
      return std::string();
    }
    if (pec && pec != std::errc::no_such_file_or_directory && pec != std::errc::not_a_directory) {
      return "cannot reach " + parent.string() + ": " + pec.message();
    }
    if (parent == parent.parent_path()) break;
    parent = parent.parent_path();
  }
  if (parent.empty() && ::access(".", W_OK | X_OK) != 0) return "cannot write in the current folder";
  return std::string();
}

// The CLI11 check of an output file (or folder) option: the path's shape, before any work.
inline CLI::Validator OutputPath(bool folder = false) {
  return CLI::Validator(
      [folder](std::string& path) -> std::string {
        const std::string problem = OutputPathProblem(path, folder);
        return problem.empty() ? problem : "'" + path + "': " + problem;
      },
      folder ? "FOLDER" : "FILE");
}

// REQUIRES: the path is where an output file goes. Throws InputError naming `option` when it
// would overwrite a file without --force (if `force_option`), names a folder, lies under a
// file, or its folder cannot be made.
inline void CheckOutputPath(const std::string& path, bool force, const char* option, bool force_option = true) {
  const std::string problem = OutputPathProblem(path);
  if (!problem.empty()) throw InputError(std::string(option) + " '" + path + "': " + problem);
  std::error_code ec;
  if (force_option && !force && std::filesystem::exists(path, ec)) {
    throw InputError(path + ": exists (use --force to overwrite it, or " + option + " to write elsewhere)");
  }
}

// ---- Parse errors and command bodies.

// Prints a scenario's warnings (options with no effect) on stderr, one line each.
inline void PrintWarnings(const Scenario& scenario) {
  for (const std::string& w : scenario.warnings) std::cerr << "gpuslice: warning: " << scenario.file << ": " << w << "\n";
}

// A CLI11 parse error as one line on stderr ("<prog>: error: --seed: ..."); returns 2.
inline int PrintParseError(const CLI::ParseError& e, const char* prog) {
  std::string message = e.what();
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  std::cerr << prog << ": error: " << message << "\n";
  return 2;
}

// Runs `body`; maps exceptions to exit codes: 2 for the user's input, 69 no usable GPU, 1 a
// GPU call failed, 3 for our bugs, 130 for an interruption. Every message is one line on
// stderr.
template <typename Body>
int GuardedCommand(Body body) {
  try {
    return body();
  } catch (const Interrupted&) {
    std::cerr << "gpuslice: interrupted; no result file written\n";
    return 130;
  } catch (const InputError& e) {
    if (InterruptRequested()) {  // e.g. a read cut short by the signal
      std::cerr << "gpuslice: interrupted; no result file written\n";
      return 130;
    }
    std::cerr << "gpuslice: error: " << e.what() << "\n";
    return 2;
  } catch (const NoGpuError& e) {
    std::cerr << "gpuslice: no GPU: " << e.what() << "\n";
    return kExitNoGpu;
  } catch (const GpuError& e) {
    std::cerr << "gpuslice: GPU error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that the system refuses (a loop of links, no permission, ...).
    if (InterruptRequested()) {
      std::cerr << "gpuslice: interrupted; no result file written\n";
      return 130;
    }
    std::cerr << "gpuslice: error: " << (e.path1().empty() ? std::string("a path") : e.path1().string()) << ": "
              << e.code().message() << "\n";
    return 2;
  } catch (const std::exception& e) {
    if (InterruptRequested()) {
      std::cerr << "gpuslice: interrupted; no result file written\n";
      return 130;
    }
    std::cerr << "gpuslice: internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace gpuslice

#endif  // GPUSLICE_TOOLS_CLI_UTIL_H_
