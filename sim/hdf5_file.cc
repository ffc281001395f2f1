#include "sim/hdf5_file.h"

#include <algorithm>
#include <stdexcept>

namespace gpuslice::h5 {
namespace {

hid_t Check(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5: cannot " + what);
  return id;
}

void CheckStatus(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: cannot " + what);
}

struct SilenceErrors {
  SilenceErrors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

// Columns of at least this many values are chunked and deflated (a summary of thousands of
// models); shorter ones stay contiguous, where a chunk index would cost more than it saves.
constexpr size_t kDeflateFromValues = 1024;

// Dataset creation properties for a 1-D column of `n` values: deflated chunks when `n` >=
// kDeflateFromValues; the defaults (contiguous) otherwise.
Handle ColumnProperties(size_t n) {
  if (n >= kDeflateFromValues) return DeflatedChunks(1, static_cast<hsize_t>(n), 0);
  return Handle(Check(H5Pcreate(H5P_DATASET_CREATE), "create properties"));
}

void WriteRaw(hid_t group, const std::string& name, hid_t type, const void* data, size_t n, const std::string& unit) {
  hsize_t dims[1] = {static_cast<hsize_t>(n)};
  Handle space(Check(H5Screate_simple(1, dims, nullptr), "create dataspace"));
  Handle props = ColumnProperties(n);
  Handle ds(Check(H5Dcreate2(group, name.c_str(), type, space.id(), H5P_DEFAULT, props.id(), H5P_DEFAULT),
                  "create dataset " + name));
  if (n > 0) CheckStatus(H5Dwrite(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset " + name);
  if (!unit.empty()) WriteStringAttribute(ds.id(), "unit", unit);
}

Handle VariableString() {
  Handle type(Check(H5Tcopy(H5T_C_S1), "copy string type"));
  CheckStatus(H5Tset_size(type.id(), H5T_VARIABLE), "set string size");
  CheckStatus(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set string charset");
  return type;
}

}  // namespace

Handle DeflatedChunks(int rank, hsize_t rows, hsize_t columns) {
  Handle props(Check(H5Pcreate(H5P_DATASET_CREATE), "create properties"));
  // About 64K values a chunk; shuffled bytes deflate well for slowly changing numbers.
  const hsize_t per_chunk = rank == 1 ? 65536 : std::max<hsize_t>(1, 65536 / columns);
  const hsize_t chunk[2] = {rows == H5S_UNLIMITED ? per_chunk : std::min(rows, per_chunk), columns};
  CheckStatus(H5Pset_chunk(props.id(), rank, chunk), "set chunk");
  CheckStatus(H5Pset_shuffle(props.id()), "set shuffle");
  CheckStatus(H5Pset_deflate(props.id(), 1), "set compression");
  return props;
}

Handle VariableStringType() { return VariableString(); }

Handle FixedStringType(size_t bytes) {
  Handle type(Check(H5Tcopy(H5T_C_S1), "copy string type"));
  CheckStatus(H5Tset_size(type.id(), std::max<size_t>(1, bytes)), "set string size");
  CheckStatus(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "set string padding");
  CheckStatus(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set string charset");
  return type;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    Reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::Reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

std::recursive_mutex& LibraryMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

Handle OpenFileReadOnly(const std::string& path) {
  static SilenceErrors silence;
  if (H5Fis_hdf5(path.c_str()) <= 0) throw std::runtime_error("not an HDF5 file");
  return Handle(Check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open file " + path));
}

Handle OpenGroupIfExists(hid_t parent, const std::string& path) {
  if (H5Lexists(parent, path.c_str(), H5P_DEFAULT) <= 0) return Handle();
  return Handle(H5Gopen2(parent, path.c_str(), H5P_DEFAULT));
}

std::vector<std::string> ListGroup(hid_t group) {
  H5G_info_t info;
  CheckStatus(H5Gget_info(group, &info), "read group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) throw std::runtime_error("HDF5: cannot read a link name");
    std::string name(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(n));
    names.push_back(name);
  }
  return names;
}

bool HasAttribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

bool HasDataset(hid_t group, const std::string& name) {
  if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0) return false;
  Handle object(H5Oopen(group, name.c_str(), H5P_DEFAULT));
  return object.id() >= 0 && H5Iget_type(object.id()) == H5I_DATASET;
}

void WriteTextDataset(hid_t group, const std::string& name, const std::string& text) {
  WriteRaw(group, name, H5T_NATIVE_UINT8, text.data(), text.size(), "");
}

std::string ReadTextDataset(hid_t group, const std::string& name) {
  Handle ds(Check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), "open dataset " + name));
  Handle space(Check(H5Dget_space(ds.id()), "get dataspace"));
  Handle type(Check(H5Dget_type(ds.id()), "read dataset type"));
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(space.id()) != 1 || H5Tget_class(type.id()) != H5T_INTEGER ||
      H5Tget_size(type.id()) != 1) {
    throw std::runtime_error("dataset " + name + " is not a 1-D array of bytes");
  }
  H5Sget_simple_extent_dims(space.id(), &n, nullptr);
  std::string text(static_cast<size_t>(n), '\0');
  if (n > 0) {
    CheckStatus(H5Dread(ds.id(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()), "read dataset " + name);
  }
  return text;
}

std::string ReadStringAttribute(hid_t object, const std::string& name) {
  if (!HasAttribute(object, name)) throw std::runtime_error("no attribute " + name);
  Handle attr(Check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "open attribute " + name));
  Handle type(Check(H5Aget_type(attr.id()), "read attribute type"));
  if (H5Tget_class(type.id()) != H5T_STRING) throw std::runtime_error("attribute " + name + " is not a string");
  if (H5Tis_variable_str(type.id()) > 0) {
    Handle memtype = VariableString();
    char* text = nullptr;
    CheckStatus(H5Aread(attr.id(), memtype.id(), &text), "read attribute " + name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type.id());
  std::string value(size, '\0');
  CheckStatus(H5Aread(attr.id(), type.id(), value.data()), "read attribute " + name);
  value.resize(std::char_traits<char>::length(value.c_str()));
  return value;
}

double ReadDoubleAttribute(hid_t object, const std::string& name) {
  if (!HasAttribute(object, name)) throw std::runtime_error("no attribute " + name);
  Handle attr(Check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "open attribute " + name));
  double value = 0;
  CheckStatus(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &value), "read attribute " + name);
  return value;
}

void Unlink(hid_t group, const std::string& name) {
  CheckStatus(H5Ldelete(group, name.c_str(), H5P_DEFAULT), "remove " + name);
}

Handle CreateFile(const std::string& path) {
  static SilenceErrors silence;
  return Handle(Check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create file " + path));
}

Handle CreateGroup(hid_t parent, const std::string& name) {
  return Handle(Check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name));
}

void WriteStringAttribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type = VariableString();
  Handle space(Check(H5Screate(H5S_SCALAR), "create scalar dataspace"));
  Handle attr(Check(H5Acreate2(object, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "create attribute " + name));
  const char* data = value.c_str();
  CheckStatus(H5Awrite(attr.id(), type.id(), &data), "write attribute " + name);
}

void WriteDoubleAttribute(hid_t object, const std::string& name, double value) {
  Handle space(Check(H5Screate(H5S_SCALAR), "create scalar dataspace"));
  Handle attr(Check(H5Acreate2(object, name.c_str(), H5T_NATIVE_DOUBLE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "create attribute " + name));
  CheckStatus(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), "write attribute " + name);
}

void WriteColumn(hid_t group, const std::string& name, const std::vector<double>& values, const std::string& unit) {
  WriteRaw(group, name, H5T_NATIVE_DOUBLE, values.data(), values.size(), unit);
}

void WriteColumn(hid_t group, const std::string& name, const std::vector<int64_t>& values, const std::string& unit) {
  WriteRaw(group, name, H5T_NATIVE_INT64, values.data(), values.size(), unit);
}

void WriteColumn(hid_t group, const std::string& name, const std::vector<int32_t>& values, const std::string& unit) {
  WriteRaw(group, name, H5T_NATIVE_INT32, values.data(), values.size(), unit);
}

void WriteStringColumn(hid_t group, const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  for (const std::string& v : values) pointers.push_back(v.c_str());
  Handle type = VariableString();
  WriteRaw(group, name, type.id(), pointers.data(), pointers.size(), "");
}

void WriteMatrix(hid_t group, const std::string& name, const std::vector<double>& values, size_t rows, size_t cols,
                 const std::string& unit) {
  hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
  Handle space(Check(H5Screate_simple(2, dims, nullptr), "create dataspace"));
  Handle ds(Check(H5Dcreate2(group, name.c_str(), H5T_NATIVE_DOUBLE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "create dataset " + name));
  if (!values.empty()) {
    CheckStatus(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
  }
  if (!unit.empty()) WriteStringAttribute(ds.id(), "unit", unit);
}

AppendableColumn::AppendableColumn(hid_t group, const std::string& name, hid_t native_type, const std::string& unit,
                                   size_t columns)
    : type_(native_type), columns_(columns) {
  const int rank = columns == 0 ? 1 : 2;
  hsize_t dims[2] = {0, columns};
  hsize_t max_dims[2] = {H5S_UNLIMITED, columns};
  Handle space(Check(H5Screate_simple(rank, dims, max_dims), "create dataspace"));
  Handle props = DeflatedChunks(rank, H5S_UNLIMITED, columns);
  dataset_ = Handle(Check(H5Dcreate2(group, name.c_str(), native_type, space.id(), H5P_DEFAULT, props.id(), H5P_DEFAULT),
                          "create dataset " + name));
  if (!unit.empty()) WriteStringAttribute(dataset_.id(), "unit", unit);
}

void AppendableColumn::Append(const void* values, size_t rows) {
  if (rows == 0) return;
  const int rank = columns_ == 0 ? 1 : 2;
  hsize_t new_size[2] = {size_ + rows, columns_};
  CheckStatus(H5Dset_extent(dataset_.id(), new_size), "extend dataset");
  Handle file_space(Check(H5Dget_space(dataset_.id()), "get dataspace"));
  hsize_t start[2] = {size_, 0};
  hsize_t n[2] = {rows, columns_};
  CheckStatus(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, n, nullptr), "select");
  Handle mem_space(Check(H5Screate_simple(rank, n, nullptr), "create dataspace"));
  CheckStatus(H5Dwrite(dataset_.id(), type_, mem_space.id(), file_space.id(), H5P_DEFAULT, values), "append");
  size_ += rows;
}

}  // namespace gpuslice::h5
