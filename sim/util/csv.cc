#include "sim/util/csv.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "sim/util/error.h"
#include "sim/util/interrupt.h"

namespace gpuslice {
namespace {

constexpr size_t kBlockBytes = 1 << 20;

DecompressorFactory& Decompressor() {
  static DecompressorFactory factory = nullptr;
  return factory;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string_view Trim(std::string_view f) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) f.remove_suffix(1);
  return f;
}

}  // namespace

Compression DetectCompression(std::string_view s) {
  if (StartsWith(s, "\x1f\x8b\x08")) return Compression::kGzip;
  if (StartsWith(s, std::string_view("\xfd" "7zXZ\0", 6))) return Compression::kXz;
  if (StartsWith(s, "\x28\xb5\x2f\xfd")) return Compression::kZstd;
  // "BZh", the block size '1'..'9', then a block's or the end's magic (so that a text file
  // that happens to begin with "BZh9" is not mistaken for one).
  if (s.size() >= 10 && StartsWith(s, "BZh") && s[3] >= '1' && s[3] <= '9' &&
      (s.substr(4, 6) == "\x31\x41\x59\x26\x53\x59" || s.substr(4, 6) == "\x17\x72\x45\x38\x50\x90")) {
    return Compression::kBzip2;
  }
  return Compression::kNone;
}

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kXz: return "xz";
    case Compression::kZstd: return "zstd";
    case Compression::kBzip2: return "bzip2";
    case Compression::kNone: break;
  }
  return "plain";
}

void SetDecompressor(DecompressorFactory factory) { Decompressor() = factory; }

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

CsvReader::CsvReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  }
  try {
    struct stat st;
    if (::fstat(::fileno(file_), &st) == 0 && S_ISDIR(st.st_mode)) throw InputError(path_ + ": is a folder, not a file");
    buffer_.resize(kBlockBytes);
    end_ = Fill(buffer_.data(), buffer_.size());
    const Compression kind = DetectCompression(std::string_view(buffer_.data(), end_));
    if (kind != Compression::kNone) {
      if (Decompressor() == nullptr) {
        throw InputError(path_ + ": " + CompressionName(kind) +
                         "-compressed; this binary reads plain text only: decompress it first");
      }
      source_ = Decompressor()(kind, path_, file_, std::string(buffer_.data(), end_));
      end_ = Fill(buffer_.data(), buffer_.size());
    }
    if (end_ == 0) eof_ = true;
    // A UTF-8 byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name.
    if (StartsWith(std::string_view(buffer_.data(), end_), "\xef\xbb\xbf")) pos_ = 3;
  } catch (...) {
    source_.reset();
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

CsvReader::~CsvReader() {
  source_.reset();  // before the file it reads
  if (file_ != nullptr) std::fclose(file_);
}

size_t CsvReader::Fill(char* out, size_t n) {
  ThrowIfInterrupted();
  if (source_ != nullptr) return source_->Read(out, n);
  const size_t got = std::fread(out, 1, n, file_);
  if (got < n && std::ferror(file_)) throw InputError(path_ + ": read error: " + std::strerror(errno));
  return got;
}

bool CsvReader::ReadLine() {
  for (;;) {
    const char* begin = buffer_.data() + pos_;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
    const size_t length = newline != nullptr ? static_cast<size_t>(newline - begin) : end_ - pos_;
    // Bounds the buffer: a file with no line breaks never grows it past twice the limit.
    if (length > kMaxLineBytes) {
      throw LineError(path_, line_number_ + 1, "line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB");
    }
    if (newline != nullptr) {
      line_ = std::string_view(begin, length);
      pos_ = static_cast<size_t>(newline - buffer_.data()) + 1;
      ++line_number_;
      return true;
    }
    if (eof_) {
      if (pos_ == end_) return false;
      line_ = std::string_view(begin, length);  // last line without a final newline
      pos_ = end_;
      ++line_number_;
      return true;
    }
    // Keep the partial line, refill behind it.
    std::memmove(buffer_.data(), begin, length);
    pos_ = 0;
    end_ = length;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than a block
    const size_t got = Fill(buffer_.data() + end_, buffer_.size() - end_);
    if (got == 0) eof_ = true;
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
