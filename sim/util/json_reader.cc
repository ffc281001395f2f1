#include "sim/util/json_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "sim/engine/time.h"
#include "sim/util/csv.h"
#include "sim/util/json_check.h"

namespace gpuslice {
namespace {

std::string Describe(const nlohmann::ordered_json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

}  // namespace

InputError JsonError(const std::string& file, const std::string& pointer, const std::string& what) {
  return InputError(file + ": " + (pointer.empty() ? "/" : pointer) + ": " + what);
}

nlohmann::ordered_json ParseJsonText(const std::string& text, const std::string& label) {
  CheckJsonText(text, label);
  try {
    return ParseOrderedJsonFast(text);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    if (byte > text.size()) byte = text.size();
    long line = 1, column = 1;
    for (size_t i = 0; i < byte; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    size_t colon = what.find("syntax error");
    if (colon != std::string::npos) what = what.substr(colon);
    throw InputError(label + ":" + std::to_string(line) + ":" + std::to_string(column) +
                     ": malformed JSON: " + what);
  } catch (const nlohmann::ordered_json::exception& e) {
    // Out of range and the like, which CheckJsonText did not foresee.
    throw InputError(label + ": malformed JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    throw InputError(label + ": malformed JSON: " + e.what());
  }
}

nlohmann::ordered_json ParseJsonFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a folder, not a JSON file");
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    throw InputError(path + ": is not a regular file (a FIFO or a device), expected a JSON file");
  }
  constexpr std::uintmax_t kMaxJsonBytes = 1ull << 30;
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > kMaxJsonBytes) {
    throw InputError(path + ": larger than 1 GiB, the most a JSON file may be");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error");
  const std::string text = buffer.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw InputError(path + ": empty file, expected JSON");
  return ParseJsonText(text, path);
}

std::string JoinPointer(const std::string& base, std::string_view key) {
  std::string out = base + "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

JsonObject::JsonObject(std::string file, const nlohmann::ordered_json& value, std::string pointer)
    : JsonObject(std::move(file), value, std::move(pointer), std::make_shared<DefaultList>()) {}

JsonObject::JsonObject(std::string file, const nlohmann::ordered_json& value, std::string pointer,
                       std::shared_ptr<DefaultList> defaults)
    : file_(std::move(file)), value_(&value), pointer_(std::move(pointer)), defaults_(std::move(defaults)) {
  if (!value.is_object()) throw JsonError(file_, pointer_, "expected an object, got " + Describe(value));
}

void JsonObject::RecordDefault(std::string_view key, const nlohmann::ordered_json& value) const {
  defaults_->emplace_back(PathOf(key), value);
}

nlohmann::ordered_json JsonObject::WithDefaults() const {
  nlohmann::ordered_json resolved = *value_;
  const std::string prefix = pointer_ + "/";
  for (const auto& [pointer, value] : *defaults_) {
    if (pointer.compare(0, prefix.size(), prefix) != 0) continue;
    const nlohmann::ordered_json::json_pointer relative(pointer.substr(pointer_.size()));
    if (!resolved.contains(relative) || resolved[relative].is_null()) resolved[relative] = value;
  }
  return resolved;
}

const nlohmann::ordered_json* JsonObject::Find(std::string_view key) const {
  // An ordered object is searched linearly; a large one (a scale scenario's thousands of
  // models or functions) gets a hash index on its first look-up.
  constexpr size_t kIndexFrom = 16;
  if (value_->size() < kIndexFrom) {
    auto it = value_->find(key);
    return it == value_->end() ? nullptr : &*it;
  }
  if (index_ == nullptr) {
    index_ = std::make_shared<std::unordered_map<std::string_view, const nlohmann::ordered_json*>>();
    index_->reserve(value_->size());
    for (auto it = value_->begin(); it != value_->end(); ++it) index_->emplace(it.key(), &*it);
  }
  auto it = index_->find(key);
  return it == index_->end() ? nullptr : it->second;
}

bool JsonObject::Has(std::string_view key) const {
  const nlohmann::ordered_json* v = Find(key);
  return v != nullptr && !v->is_null();
}

InputError JsonObject::Error(std::string_view key, const std::string& what) const {
  return JsonError(file_, PathOf(key), what);
}

InputError JsonObject::Error(const std::string& what) const { return JsonError(file_, pointer_, what); }

const nlohmann::ordered_json& JsonObject::Require(std::string_view key) const {
  used_.insert(std::string(key));
  const nlohmann::ordered_json* v = Find(key);
  if (v == nullptr || v->is_null()) throw Error(key, "missing required key");
  return *v;
}

const nlohmann::ordered_json& JsonObject::Value(std::string_view key) const { return Require(key); }

double JsonObject::Number(std::string_view key) const {
  const nlohmann::ordered_json& v = Require(key);
  if (!v.is_number()) throw Error(key, "expected a number, got " + Describe(v));
  double d = v.get<double>();
  if (!std::isfinite(d)) throw Error(key, "must be finite");
  CheckUnitRange(key, d);
  return d;
}

void JsonObject::CheckUnitRange(std::string_view key, double d) const {
  auto ends_with = [key](std::string_view suffix) {
    return key.size() > suffix.size() && key.substr(key.size() - suffix.size()) == suffix;
  };
  const double magnitude = std::fabs(d);
  if (key == "zipf_s") return;  // an exponent, not seconds
  if (ends_with("_s") || ends_with("_ms")) {
    const double per_second = ends_with("_ms") ? 1e3 : 1.0;
    const std::string unit = ends_with("_ms") ? " ms" : " s";
    if (magnitude > kMaxInputSeconds * per_second) {
      throw Error(key, "must be at most " + Describe(nlohmann::ordered_json(kMaxInputSeconds * per_second)) + unit +
                           " (about 31.7 years; simulated time is int64 nanoseconds) (got " + Describe(Value(key)) +
                           ")");
    }
    if (magnitude > 0 && magnitude < 1e-9 * per_second) {
      throw Error(key, "must be at least 1 ns (simulated time's resolution) (got " + Describe(Value(key)) + ")");
    }
  } else if (ends_with("_rps") && magnitude > kMaxInputRps) {
    throw Error(key, "must be at most " + Describe(nlohmann::ordered_json(kMaxInputRps)) +
                         " requests/s (got " + Describe(Value(key)) + ")");
  } else if (ends_with("_mb") && magnitude > kMaxInputMb) {
    throw Error(key, "must be at most " + Describe(nlohmann::ordered_json(kMaxInputMb)) + " MB (1 PB) (got " +
                         Describe(Value(key)) + ")");
  }
}

double JsonObject::NumberIn(std::string_view key, double fallback, double min, double max,
                            std::string_view why) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  if (!Has(key)) return fallback;
  const nlohmann::ordered_json& v = Require(key);
  if (!v.is_number()) throw Error(key, "expected a number, got " + Describe(v));
  const double d = v.get<double>();
  if (!(d >= min && d <= max)) {
    throw Error(key, "must be in [" + Describe(nlohmann::ordered_json(min)) + ", " +
                         Describe(nlohmann::ordered_json(max)) + "]" + (why.empty() ? "" : " (" + std::string(why) + ")") +
                         " (got " + Describe(Value(key)) + ")");
  }
  CheckUnitRange(key, d);
  return d;
}

double JsonObject::Interval(std::string_view key, double fallback) const {
  return NumberIn(key, fallback, kMinIntervalSeconds, kMaxInputSeconds, "seconds; at least 1 ms");
}

double JsonObject::Number(std::string_view key, double fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  return Has(key) ? Number(key) : fallback;
}

double JsonObject::Positive(std::string_view key) const {
  double d = Number(key);
  if (!(d > 0)) throw Error(key, "must be > 0 (got " + Describe(value_->at(std::string(key))) + ")");
  return d;
}

double JsonObject::Positive(std::string_view key, double fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  return Has(key) ? Positive(key) : fallback;
}

double JsonObject::NonNegative(std::string_view key, double fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  if (!Has(key)) return fallback;
  double d = Number(key);
  if (d < 0) throw Error(key, "must be >= 0 (got " + Describe(value_->at(std::string(key))) + ")");
  return d;
}

long long JsonObject::Integer(std::string_view key) const {
  const nlohmann::ordered_json& v = Require(key);
  if (v.is_number_unsigned() && v.get<unsigned long long>() > 9223372036854775807ull) {
    throw Error(key, "must be an integer at most 9223372036854775807 (got " + Describe(v) + ")");
  }
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<long long>(d);
  }
  throw Error(key, "expected an integer, got " + Describe(v));
}

long long JsonObject::Integer(std::string_view key, long long fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  return Has(key) ? Integer(key) : fallback;
}

long long JsonObject::IntegerIn(std::string_view key, long long fallback, long long min,
                                long long max) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  if (Has(key)) {
    const nlohmann::ordered_json& j = Require(key);
    // A number too large for an integer (99999999999999999999 parses as a double): say the range.
    if (j.is_number_float() && std::isfinite(j.get<double>()) && j.get<double>() == std::floor(j.get<double>()) &&
        std::fabs(j.get<double>()) >= 9e15) {
      throw Error(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " +
                           Describe(j) + ")");
    }
    if (j.is_number_unsigned() && j.get<unsigned long long>() > static_cast<unsigned long long>(max)) {
      throw Error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " + Describe(j) + ")");
    }
  }
  long long v = Integer(key, fallback);
  if (v < min || v > max) {
    throw Error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " +
                         std::to_string(v) + ")");
  }
  return v;
}

bool JsonObject::Bool(std::string_view key, bool fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, fallback);
  if (!Has(key)) return fallback;
  const nlohmann::ordered_json& v = Require(key);
  if (!v.is_boolean()) throw Error(key, "expected true or false, got " + Describe(v));
  return v.get<bool>();
}

std::string JsonObject::String(std::string_view key) const {
  const nlohmann::ordered_json& v = Require(key);
  if (!v.is_string()) throw Error(key, "expected a string, got " + Describe(v));
  return v.get<std::string>();
}

std::string JsonObject::String(std::string_view key, std::string_view fallback) const {
  used_.insert(std::string(key));
  RecordIfAbsent(key, std::string(fallback));
  return Has(key) ? String(key) : std::string(fallback);
}

JsonObject JsonObject::Object(std::string_view key) const {
  return JsonObject(file_, Require(key), PathOf(key), defaults_);
}

void JsonObject::RejectUnknownKeys() const {
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (used_.find(it.key()) == used_.end()) throw Error(it.key(), "unknown key");
  }
}

void ApplyOverride(nlohmann::ordered_json& root, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set " + assignment + ": expected json.path=value");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  // JSON if it parses (after the checks of a scenario's text), else the text as a string.
  if (!IsValidUtf8(assignment)) throw InputError("--set " + path + ": the value is not valid UTF-8");
  CheckJsonText(text, "--set " + path);
  nlohmann::ordered_json value = nlohmann::ordered_json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;
  SetJsonPath(root, path, value, "--set " + assignment);
}

void SetJsonPath(nlohmann::ordered_json& root, const std::string& path, const nlohmann::ordered_json& value,
                 const std::string& label) {
  nlohmann::ordered_json* node = &root;
  size_t start = 0;
  if (std::count(path.begin(), path.end(), '.') >= kMaxJsonDepth) {
    throw InputError(label + ": a path of more than " + std::to_string(kMaxJsonDepth) + " parts");
  }
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError(label + ": empty path component");
    nlohmann::ordered_json* next;
    if (node->is_array()) {
      size_t index = 0;
      try {
        size_t used = 0;
        index = std::stoul(part, &used);
        if (used != part.size()) throw std::invalid_argument(part);
      } catch (const std::exception&) {
        throw InputError(label + ": '" + part + "' is not an array index");
      }
      if (index >= node->size()) {
        throw InputError(label + ": index " + part + " is past the array's end");
      }
      next = &(*node)[index];
    } else if (node->is_object() || node->is_null()) {
      next = &(*node)[part];
    } else {
      throw InputError(label + ": '" + part + "' is inside a value that is not an object");
    }
    if (dot == std::string::npos) {
      *next = value;
      return;
    }
    node = next;
    start = dot + 1;
  }
}

}  // namespace gpuslice
