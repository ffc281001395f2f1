#include "sim/util/csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "sim/util/error.h"

namespace gpuslice {
namespace {

constexpr size_t kBlockBytes = 1 << 20;

std::string_view Trim(std::string_view f) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) f.remove_suffix(1);
  return f;
}

}  // namespace

CsvReader::CsvReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  }
  buffer_.resize(kBlockBytes);
}

CsvReader::~CsvReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool CsvReader::ReadLine() {
  for (;;) {
    const char* begin = buffer_.data() + pos_;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
    if (newline != nullptr) {
      line_ = std::string_view(begin, static_cast<size_t>(newline - begin));
      pos_ = static_cast<size_t>(newline - buffer_.data()) + 1;
      ++line_number_;
      return true;
    }
    if (eof_) {
      if (pos_ == end_) return false;
      line_ = std::string_view(begin, end_ - pos_);  // last line without a final newline
      pos_ = end_;
      ++line_number_;
      return true;
    }
    // Keep the partial line, refill behind it.
    const size_t partial = end_ - pos_;
    std::memmove(buffer_.data(), begin, partial);
    pos_ = 0;
    end_ = partial;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than a block
    const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (got == 0) {
      if (std::ferror(file_)) throw InputError(path_ + ": read error: " + std::strerror(errno));
      eof_ = true;
    }
    end_ += got;
  }
}

bool CsvReader::Next() {
  for (;;) {
    if (!ReadLine()) return false;
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    fields_.clear();
    for (;;) {
      const size_t comma = line.find(',');
      fields_.push_back(Trim(line.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
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
                    "expected " + std::to_string(n) + " fields, got " + std::to_string(fields_.size()));
  }
}

bool CsvReader::TryDouble(std::string_view f, double* out) {
  auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), *out);
  return !f.empty() && ec == std::errc() && end == f.data() + f.size() && std::isfinite(*out);
}

double CsvReader::Double(size_t i, std::string_view column) const {
  RequireFields(i + 1);
  double value = 0;
  if (!TryDouble(fields_[i], &value)) {
    throw LineError(path_, line_number_,
                    "column '" + std::string(column) + "': '" + std::string(fields_[i]) + "' is not a number");
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
                    "column '" + std::string(column) + "': '" + std::string(f) + "' is not an integer");
  }
  return value;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string ExactNumber(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) return std::string(buf, end);
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

}  // namespace gpuslice
