// CsvReader: streams a comma-separated file one line at a time, in constant memory (1 MiB
// blocks, grown only for a longer line, up to kMaxLineBytes).
//
// Handles CRLF line endings, a missing final newline, blank lines (skipped) and a UTF-8
// byte-order mark at the start of the file (Excel writes one; it is dropped). Fields are
// split on commas with no quoting and trimmed of blanks; a field is a view into the current
// line, valid until the next call to Next(). Numeric helpers raise InputError naming file,
// line and column.
//
// Compressed files: gzip, xz, zstd and bzip2 are recognised by their first bytes (never by
// the file's name) and read through the decompressor that sim/util/decompress.cc installs in
// the binaries that link it (gpuslice and its tests). A binary without it (the standalone
// GPU binaries, which read plain text only) refuses a compressed file with a message that
// says so. Corrupt or truncated compressed data is an InputError naming the file.
//
// Every block read checks the interrupt flag (sim/util/interrupt.h), so a long read stops
// promptly on Ctrl-C.
#ifndef GPUSLICE_SIM_UTIL_CSV_H_
#define GPUSLICE_SIM_UTIL_CSV_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gpuslice {

// The longest line CsvReader reads; a longer one is "file:line: line longer than 16 MiB".
inline constexpr size_t kMaxLineBytes = size_t{16} << 20;

enum class Compression { kNone, kGzip, kXz, kZstd, kBzip2 };

// The compression whose magic bytes `start` (a file's first bytes) begins with.
Compression DetectCompression(std::string_view start);
// "gzip", "xz", "zstd", "bzip2" ("plain" for kNone).
const char* CompressionName(Compression c);

// Bytes of a file, decompressed.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `n` bytes into `out`; fewer only at the end, 0 once at the end. Throws InputError
  // (naming the file) on a read error or corrupt or truncated data.
  virtual size_t Read(char* out, size_t n) = 0;
};

// Opens a decompressing reader of `file` (not owned; it stays open while the source lives)
// whose first bytes, `prefix`, were already read from it.
using DecompressorFactory = std::unique_ptr<ByteSource> (*)(Compression kind, const std::string& path, FILE* file,
                                                            std::string prefix);
// Installs the decompressor (sim/util/decompress.cc does, at static initialisation).
void SetDecompressor(DecompressorFactory factory);

// True if `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), as JSON output requires of every name.
bool IsValidUtf8(std::string_view text);

class CsvReader {
 public:
  // Throws InputError if the file cannot be opened, is a folder, or is compressed in a binary
  // without the decompressor.
  explicit CsvReader(std::string path);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next non-blank line. Returns false at the end of the file.
  bool Next();
  // The raw text of the current line (without its line break).
  std::string_view line() const { return line_; }
  // Reads the next line as it is, blank or not (for JSON lines). False at the end.
  bool NextRaw() { return ReadLine(); }

  const std::vector<std::string_view>& fields() const { return fields_; }
  long line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

  // Index of `name` in `header`, or -1.
  static int FindColumn(const std::vector<std::string>& header, std::string_view name);

  // Parse field `i` of the current line; `column` names it in errors.
  double Double(size_t i, std::string_view column) const;
  long long Int(size_t i, std::string_view column) const;
  // Raises "file:line: expected N fields, got M" unless the line has at least `n` fields.
  void RequireFields(size_t n) const;
  // Parses a whole field as a finite number; false if it is not one.
  static bool TryDouble(std::string_view field, double* out);

 private:
  bool ReadLine();
  // Reads up to `n` more bytes of the (decompressed) file; 0 at its end.
  size_t Fill(char* out, size_t n);

  std::string path_;
  FILE* file_ = nullptr;
  std::unique_ptr<ByteSource> source_;  // set when the file is compressed
  std::vector<char> buffer_;
  size_t pos_ = 0;  // start of unread data in buffer_
  size_t end_ = 0;  // end of valid data in buffer_
  bool eof_ = false;
  std::string_view line_;
  std::vector<std::string_view> fields_;
  long line_number_ = 0;
};

// Writing CSV: `text` as one RFC 4180 field (quoted when it holds a comma, quote or line
// break), and a double in the shortest form that reads back as the same value.
std::string CsvField(const std::string& text);
std::string ExactNumber(double value);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_CSV_H_
