// CsvReader: streams a comma-separated file one line at a time, in constant memory.
//
// Handles CRLF line endings, a missing final newline and blank lines (skipped). Fields are
// split on commas with no quoting; a field is a view into the current line, valid until
// the next call to Next(). Numeric helpers raise InputError naming file, line and column.
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

 private:
  bool ReadLine();

  std::string path_;
  FILE* file_ = nullptr;
  std::string line_;
  std::vector<std::string_view> fields_;
  long line_number_ = 0;
};

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_CSV_H_
