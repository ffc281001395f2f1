// CsvReader: streams a comma-separated file one line at a time, in constant memory (1 MiB
// blocks, grown only for a longer line).
//
// Handles CRLF line endings, a missing final newline and blank lines (skipped). Fields are
// split on commas with no quoting and trimmed of blanks; a field is a view into the current
// line, valid until the next call to Next(). Numeric helpers raise InputError naming file,
// line and column.
#ifndef GPUSLICE_SIM_UTIL_CSV_H_
#define GPUSLICE_SIM_UTIL_CSV_H_

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace gpuslice {

class CsvReader {
 public:
  // Throws InputError if the file cannot be opened.
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

  std::string path_;
  FILE* file_ = nullptr;
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
