// JsonObject: reads one JSON object of a user's file with validation, keeping the file name
// and JSON path so that every error says where it is ("file: /models/resnet50/slo_ms: ...").
//
// Readers ask for each key they understand, then call RejectUnknownKeys(): a misspelt key
// is an error, never silently ignored.
#ifndef GPUSLICE_SIM_UTIL_JSON_READER_H_
#define GPUSLICE_SIM_UTIL_JSON_READER_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/util/error.h"

namespace gpuslice {

// Parses a JSON file; syntax errors name the file, line and column, and so do duplicate
// keys, nesting deeper than kMaxJsonDepth and numbers out of a double's range
// (CheckJsonText). A folder or an empty file is an InputError too.
nlohmann::ordered_json ParseJsonFile(const std::string& path);
// The same for JSON text; `label` stands for the file in messages.
nlohmann::ordered_json ParseJsonText(const std::string& text, const std::string& label);

// "/a/b" + "c" -> "/a/b/c", escaping as JSON Pointer does.
std::string JoinPointer(const std::string& base, std::string_view key);

// Every number a reader returns is finite and, by its key's unit suffix, within what the
// simulator represents: "_s" and "_ms" keys at most kMaxInputSeconds (and 0 or at least
// 1 ns), "_rps" at most kMaxInputRps, "_mb" at most kMaxInputMb.
inline constexpr double kMaxInputRps = 1e9;
inline constexpr double kMaxInputMb = 1e9;
inline constexpr double kMinIntervalSeconds = 1e-3;

class JsonObject {
 public:
  // Throws InputError unless `value` is an object.
  JsonObject(std::string file, const nlohmann::ordered_json& value, std::string pointer);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const nlohmann::ordered_json& json() const { return *value_; }
  bool Has(std::string_view key) const;

  // Each reader raises InputError if the key is missing (and no default is given) or has
  // the wrong type.
  double Number(std::string_view key) const;
  double Number(std::string_view key, double fallback) const;
  double Positive(std::string_view key) const;                  // > 0
  double Positive(std::string_view key, double fallback) const;
  double NonNegative(std::string_view key, double fallback) const;  // >= 0
  long long Integer(std::string_view key) const;
  long long Integer(std::string_view key, long long fallback) const;
  // A number in [min, max]; `why`, when given, is said after the range in the message.
  double NumberIn(std::string_view key, double fallback, double min, double max, std::string_view why = "") const;
  // A control, sampling or output period in seconds, in [kMinIntervalSeconds, kMaxInputSeconds]:
  // a shorter one would flood the event queue (1e-12 s tried to allocate hundreds of TB).
  double Interval(std::string_view key, double fallback) const;
  // Integer in [min, max].
  long long IntegerIn(std::string_view key, long long fallback, long long min, long long max) const;
  bool Bool(std::string_view key, bool fallback) const;
  std::string String(std::string_view key) const;
  std::string String(std::string_view key, std::string_view fallback) const;
  JsonObject Object(std::string_view key) const;
  // The raw value. REQUIRES: Has(key).
  const nlohmann::ordered_json& Value(std::string_view key) const;

  std::string PathOf(std::string_view key) const { return JoinPointer(pointer_, key); }
  InputError Error(std::string_view key, const std::string& what) const;
  InputError Error(const std::string& what) const;  // about the object itself

  void RejectUnknownKeys() const;

  // Defaults. Every reader given a fallback records it when the key is absent, and so does
  // RecordDefault; objects read through Object() share the record. WithDefaults() is this
  // object's JSON with every recorded default filled in: reading it again gives the same
  // values with no fallback taken, so it is the fully resolved config that ran.
  void RecordDefault(std::string_view key, const nlohmann::ordered_json& value) const;
  nlohmann::ordered_json WithDefaults() const;

 private:
  using DefaultList = std::vector<std::pair<std::string, nlohmann::ordered_json>>;  // (absolute pointer, value)
  JsonObject(std::string file, const nlohmann::ordered_json& value, std::string pointer,
             std::shared_ptr<DefaultList> defaults);
  const nlohmann::ordered_json& Require(std::string_view key) const;
  void CheckUnitRange(std::string_view key, double value) const;
  const nlohmann::ordered_json* Find(std::string_view key) const;  // nullptr if absent
  template <typename T>
  void RecordIfAbsent(std::string_view key, const T& fallback) const {
    if (!Has(key)) RecordDefault(key, fallback);
  }

  std::string file_;
  const nlohmann::ordered_json* value_;
  std::string pointer_;
  mutable std::set<std::string, std::less<>> used_;
  mutable std::shared_ptr<std::unordered_map<std::string_view, const nlohmann::ordered_json*>> index_;
  std::shared_ptr<DefaultList> defaults_;
};

// "file: /path: what"
InputError JsonError(const std::string& file, const std::string& pointer, const std::string& what);

// Sets `dotted.path=value` in `root`: the path's parts are object keys or array indices;
// missing object keys are created; the value is parsed as JSON, or taken as a string if it
// does not parse. Throws InputError naming the option on a bad path.
void ApplyOverride(nlohmann::ordered_json& root, const std::string& assignment);
// Sets the value at `dotted.path` as ApplyOverride does; errors start with `label`.
void SetJsonPath(nlohmann::ordered_json& root, const std::string& path, const nlohmann::ordered_json& value,
                 const std::string& label);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_JSON_READER_H_
