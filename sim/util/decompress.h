// Reading compressed files: the decompressor CsvReader uses for gzip, xz, zstd and bzip2.
//
// Built on Boost.Iostreams (zlib, liblzma, libzstd, libbz2) and linked only into the
// simulator's command line and tests (the gpuslice_decompress object library): the
// standalone GPU binaries do not link it, so they gain no shared library and read plain text
// only. Linking this file installs OpenDecompressor into CsvReader (SetDecompressor) at
// static initialisation.
//
// Corrupt data, and data that ends before its stream does (a truncated download), are an
// InputError naming the file. Boost's zstd filter does not see a truncated zstd stream, so
// the compressed bytes are also walked frame by frame (magic, header, block headers,
// checksum) and must end where a frame does.
#ifndef GPUSLICE_SIM_UTIL_DECOMPRESS_H_
#define GPUSLICE_SIM_UTIL_DECOMPRESS_H_

#include <cstdio>
#include <memory>
#include <string>

#include "sim/util/csv.h"

namespace gpuslice {

// A DecompressorFactory: reads `file` (whose first bytes, already read, are `prefix`) as
// `kind`-compressed data.
std::unique_ptr<ByteSource> OpenDecompressor(Compression kind, const std::string& path, FILE* file,
                                             std::string prefix);

}  // namespace gpuslice

#endif  // GPUSLICE_SIM_UTIL_DECOMPRESS_H_
