#include "sim/util/csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "sim/util/error.h"

namespace gpuslice {

CsvReader::CsvReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  }
  static constexpr size_t kBufferBytes = 1 << 20;
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

CsvReader::~CsvReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool CsvReader::ReadLine() {
  line_.clear();
  int c;
  bool any = false;
  while ((c = getc_unlocked(file_)) != EOF) {
    any = true;
    if (c == '\n') break;
    line_.push_back(static_cast<char>(c));
  }
  if (!any) return false;
  ++line_number_;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

bool CsvReader::Next() {
  for (;;) {
    if (!ReadLine()) return false;
    if (line_.find_first_not_of(" \t") == std::string::npos) continue;
    fields_.clear();
    std::string_view rest(line_);
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view field = rest.substr(0, comma);
      while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
      while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
      fields_.push_back(field);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return true;
  }
}

int CsvReader::FindColumn(const std::vector<std::string>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

void CsvReader::RequireFields(size_t n) const {
  if (fields_.size() < n) {
    throw LineError(path_, line_number_,
                    "expected " + std::to_string(n) + " fields, got " +
                        std::to_string(fields_.size()));
  }
}

double CsvReader::Double(size_t i, std::string_view column) const {
  RequireFields(i + 1);
  std::string_view f = fields_[i];
  double value = 0;
  auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
  if (f.empty() || ec != std::errc() || end != f.data() + f.size() || !std::isfinite(value)) {
    throw LineError(path_, line_number_,
                    "column '" + std::string(column) + "': '" + std::string(f) +
                        "' is not a number");
  }
  return value;
}

long long CsvReader::Int(size_t i, std::string_view column) const {
  RequireFields(i + 1);
  std::string_view f = fields_[i];
  long long value = 0;
  auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
  if (f.empty() || ec != std::errc() || end != f.data() + f.size()) {
    throw LineError(path_, line_number_,
                    "column '" + std::string(column) + "': '" + std::string(f) +
                        "' is not an integer");
  }
  return value;
}

}  // namespace gpuslice
