// Thin RAII helpers over the HDF5 C API, for the columnar tables gpuslice writes: a table is
// a group of equal-length 1-D datasets, one per column, which h5py and pandas read directly
// (pd.DataFrame({k: g[k][()] for k in g})). Errors raise std::runtime_error; HDF5's own
// error printing is silenced.
#ifndef GPUSLICE_SIM_HDF5_FILE_H_
#define GPUSLICE_SIM_HDF5_FILE_H_

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace gpuslice::h5 {

// Owns an HDF5 object id (file, group, dataset, ...).
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { Reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const { return id_; }
  void Reset();

 private:
  hid_t id_ = -1;
};

// Debian's HDF5 is built without thread safety: code that may call HDF5 while another thread
// does must hold this (recursive) lock around every call, closing handles included.
std::recursive_mutex& LibraryMutex();

Handle CreateFile(const std::string& path);
// The variable-length UTF-8 string type the writers use (for AppendableColumn of strings:
// append `const char*` values).
Handle VariableStringType();
// Fixed-length UTF-8 strings of `bytes` bytes, NUL-padded (append `bytes` chars a value): they
// live in the dataset's chunks, so they compress, unlike variable-length ones.
Handle FixedStringType(size_t bytes);
// Dataset creation properties: chunks of about 64K values, shuffled and deflated. `rank` 1
// (`columns` ignored) or 2 ([rows × columns]); `rows` is the dataset's row count, or
// H5S_UNLIMITED for one that grows. REQUIRES: rows >= 1; columns >= 1 when rank is 2.
Handle DeflatedChunks(int rank, hsize_t rows, hsize_t columns);
// Opens an existing file read-only. Throws std::runtime_error if it is not an HDF5 file.
Handle OpenFileReadOnly(const std::string& path);
// Opens `path` (e.g. "runs/kserve") under `parent`; an invalid handle (id < 0) if absent.
Handle OpenGroupIfExists(hid_t parent, const std::string& path);
// The names of the links in a group, in creation order when the file tracks it, else by name.
std::vector<std::string> ListGroup(hid_t group);
bool HasAttribute(hid_t object, const std::string& name);
// True when `group` has a dataset (not a group or another link) called `name`.
bool HasDataset(hid_t group, const std::string& name);
// A UTF-8 text as a 1-D uint8 dataset, deflated when long: what an attribute would keep
// uncompressed (a resolved scenario of thousands of models is megabytes of JSON).
void WriteTextDataset(hid_t group, const std::string& name, const std::string& text);
// REQUIRES: HasDataset(group, name). Throws std::runtime_error if it is not 1-D bytes.
std::string ReadTextDataset(hid_t group, const std::string& name);
// Reads a variable- or fixed-length string attribute. Throws std::runtime_error if absent.
std::string ReadStringAttribute(hid_t object, const std::string& name);
double ReadDoubleAttribute(hid_t object, const std::string& name);
// Removes the link `name` from `group` (the space is not reclaimed).
void Unlink(hid_t group, const std::string& name);
Handle CreateGroup(hid_t parent, const std::string& name);
void WriteStringAttribute(hid_t object, const std::string& name, const std::string& value);
void WriteDoubleAttribute(hid_t object, const std::string& name, double value);

// 1-D columns; from 1,024 values on, chunked, shuffled and deflated.
void WriteColumn(hid_t group, const std::string& name, const std::vector<double>& values, const std::string& unit = "");
void WriteColumn(hid_t group, const std::string& name, const std::vector<int64_t>& values, const std::string& unit = "");
void WriteColumn(hid_t group, const std::string& name, const std::vector<int32_t>& values, const std::string& unit = "");
void WriteStringColumn(hid_t group, const std::string& name, const std::vector<std::string>& values);
// A row-major [rows × cols] matrix.
void WriteMatrix(hid_t group, const std::string& name, const std::vector<double>& values, size_t rows, size_t cols,
                 const std::string& unit = "");

// A dataset that grows by appending rows: 1-D (columns = 0) or [rows × columns]; chunked,
// shuffled and deflated, for tables streamed during a run.
class AppendableColumn {
 public:
  AppendableColumn(hid_t group, const std::string& name, hid_t native_type, const std::string& unit = "",
                   size_t columns = 0);
  // Appends `rows` rows (rows × columns values, row-major, when 2-D) of the native type.
  void Append(const void* values, size_t rows);

 private:
  Handle dataset_;
  hid_t type_;
  hsize_t columns_;
  hsize_t size_ = 0;
};

}  // namespace gpuslice::h5

#endif  // GPUSLICE_SIM_HDF5_FILE_H_
