#include "sim/util/decompress.h"

#include <boost/iostreams/filter/bzip2.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filter/zstd.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "sim/util/error.h"

namespace gpuslice {
namespace {

namespace io = boost::iostreams;

constexpr std::streamsize kBufferBytes = 1 << 16;

// Follows a zstd stream's structure (RFC 8878 §3.1) byte by byte without decoding it, to
// tell whether the data ended where a frame ends.
class ZstdFrames {
 public:
  void Feed(const char* p, size_t n) {
    while (n > 0 && !lost_) {
      if (skip_ > 0) {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(skip_, n));
        skip_ -= k;
        p += k;
        n -= k;
        if (skip_ == 0) AfterSkip();
        continue;
      }
      field_[have_++] = static_cast<unsigned char>(*p++);
      --n;
      if (have_ == need_) {
        have_ = 0;
        Parsed();
      }
    }
  }
  // True if the bytes so far end between two frames (or the structure was not understood:
  // the decoder reports that itself).
  bool Complete() const { return lost_ || (state_ == State::kMagic && have_ == 0 && frames_ > 0); }

 private:
  enum class State { kMagic, kSkippableSize, kSkippableData, kDescriptor, kHeaderRest, kBlockHeader, kBlockData, kChecksum };

  uint32_t Le(size_t bytes) const {
    uint32_t v = 0;
    for (size_t i = bytes; i-- > 0;) v = (v << 8) | field_[i];
    return v;
  }
  void Expect(State s, size_t bytes) {
    state_ = s;
    need_ = bytes;
  }
  void Parsed() {
    switch (state_) {
      case State::kMagic: {
        const uint32_t magic = Le(4);
        if (magic == 0xFD2FB528u) {
          Expect(State::kDescriptor, 1);
        } else if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
          Expect(State::kSkippableSize, 4);
        } else {
          lost_ = true;
        }
        break;
      }
      case State::kSkippableSize:
        state_ = State::kSkippableData;
        skip_ = Le(4);
        if (skip_ == 0) AfterSkip();
        break;
      case State::kDescriptor: {
        const unsigned d = field_[0];
        const unsigned fcs_flag = d >> 6, single_segment = (d >> 5) & 1, dictionary_flag = d & 3;
        checksum_ = ((d >> 2) & 1) != 0;
        static constexpr size_t kDictionaryBytes[] = {0, 1, 2, 4};
        static constexpr size_t kContentSizeBytes[] = {0, 2, 4, 8};
        const size_t rest = (single_segment ? 0 : 1) + kDictionaryBytes[dictionary_flag] +
                            (fcs_flag == 0 ? single_segment : kContentSizeBytes[fcs_flag]);
        if (rest == 0) {
          Expect(State::kBlockHeader, 3);
        } else {
          Expect(State::kHeaderRest, rest);
        }
        break;
      }
      case State::kHeaderRest:
        Expect(State::kBlockHeader, 3);
        break;
      case State::kBlockHeader: {
        const uint32_t h = Le(3);
        last_block_ = (h & 1) != 0;
        const uint32_t type = (h >> 1) & 3, size = h >> 3;
        if (type == 3) {
          lost_ = true;
          break;
        }
        state_ = State::kBlockData;
        skip_ = type == 1 ? 1 : size;  // RLE: one byte repeated
        if (skip_ == 0) AfterSkip();
        break;
      }
      case State::kChecksum:
        ++frames_;
        Expect(State::kMagic, 4);
        break;
      case State::kSkippableData:
      case State::kBlockData:
        break;  // consumed through skip_
    }
  }
  void AfterSkip() {
    if (state_ == State::kSkippableData) {
      ++frames_;
      Expect(State::kMagic, 4);
    } else if (!last_block_) {
      Expect(State::kBlockHeader, 3);
    } else if (checksum_) {
      Expect(State::kChecksum, 4);
    } else {
      ++frames_;
      Expect(State::kMagic, 4);
    }
  }

  State state_ = State::kMagic;
  unsigned char field_[16] = {};
  size_t need_ = 4, have_ = 0;
  uint64_t skip_ = 0;
  bool checksum_ = false, last_block_ = false, lost_ = false;
  long long frames_ = 0;
};

// What the Boost source device shares between its copies.
struct RawState {
  std::string path;
  FILE* file;
  std::string prefix;
  size_t prefix_pos = 0;
  bool zstd = false;
  ZstdFrames frames;
};

// A Boost.Iostreams source: the bytes already read, then the rest of the file.
class RawFile {
 public:
  using char_type = char;
  using category = io::source_tag;
  explicit RawFile(std::shared_ptr<RawState> s) : s_(std::move(s)) {}

  std::streamsize read(char* out, std::streamsize n) {
    RawState& s = *s_;
    size_t got;
    if (s.prefix_pos < s.prefix.size()) {
      got = std::min(static_cast<size_t>(n), s.prefix.size() - s.prefix_pos);
      std::memcpy(out, s.prefix.data() + s.prefix_pos, got);
      s.prefix_pos += got;
      if (s.prefix_pos == s.prefix.size()) std::string().swap(s.prefix);
    } else {
      got = std::fread(out, 1, static_cast<size_t>(n), s.file);
      if (got == 0) {
        if (std::ferror(s.file)) throw InputError(s.path + ": read error: " + std::strerror(errno));
        return -1;
      }
    }
    if (s.zstd) s.frames.Feed(out, got);
    return static_cast<std::streamsize>(got);
  }

 private:
  std::shared_ptr<RawState> s_;
};

// What went wrong, in words, from the Boost exception of each format.
std::string Detail(const std::exception& e) {
  constexpr const char* kEarly = "the data ends early";
  constexpr const char* kInvalid = "invalid compressed data";
  if (const auto* g = dynamic_cast<const io::gzip_error*>(&e)) {
    switch (g->error()) {
      case io::gzip::zlib_error: return g->zlib_error_code() == io::zlib::buf_error ? kEarly : kInvalid;
      case io::gzip::bad_crc: return "checksum mismatch";
      case io::gzip::bad_length: return "length mismatch";
      case io::gzip::bad_header: return "malformed header";
      case io::gzip::bad_footer: return "the data ends early or its footer is malformed";
      case io::gzip::bad_method: return "unsupported compression method";
      default: break;
    }
  } else if (const auto* x = dynamic_cast<const io::lzma_error*>(&e)) {
    if (x->error() == 10) return kEarly;    // LZMA_BUF_ERROR
    if (x->error() == 9) return kInvalid;   // LZMA_DATA_ERROR
    if (x->error() == 7) return "not xz data";  // LZMA_FORMAT_ERROR
  } else if (const auto* b = dynamic_cast<const io::bzip2_error*>(&e)) {
    if (b->error() == -7) return kEarly;    // BZ_UNEXPECTED_EOF
    if (b->error() == -4) return kInvalid;  // BZ_DATA_ERROR
  }
  // Boost's messages end in ": iostream error", which says nothing here.
  std::string detail = e.what();
  const std::string noise = ": iostream error";
  if (detail.size() >= noise.size() && detail.compare(detail.size() - noise.size(), noise.size(), noise) == 0) {
    detail.resize(detail.size() - noise.size());
  }
  return detail;
}

class Decompressed final : public ByteSource {
 public:
  Decompressed(Compression kind, const std::string& path, FILE* file, std::string prefix) : kind_(kind) {
    state_ = std::make_shared<RawState>();
    state_->path = path;
    state_->file = file;
    state_->prefix = std::move(prefix);
    state_->zstd = kind == Compression::kZstd;
    switch (kind) {
      case Compression::kGzip: buf_.push(io::gzip_decompressor(io::zlib::default_window_bits, kBufferBytes), kBufferBytes); break;
      case Compression::kXz: buf_.push(io::lzma_decompressor(io::lzma_params(), kBufferBytes), kBufferBytes); break;
      case Compression::kZstd: buf_.push(io::zstd_decompressor(io::zstd_params(), kBufferBytes), kBufferBytes); break;
      case Compression::kBzip2: buf_.push(io::bzip2_decompressor(false, kBufferBytes), kBufferBytes); break;
      case Compression::kNone: throw std::logic_error("Decompressed: not compressed");
    }
    buf_.push(RawFile(state_), kBufferBytes);
  }

  size_t Read(char* out, size_t n) override {
    std::streamsize got = 0;
    try {
      got = buf_.sgetn(out, static_cast<std::streamsize>(n));
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {
      throw InputError(state_->path + ": " + CompressionName(kind_) + "-compressed data is corrupt or truncated: " +
                       Detail(e));
    }
    if (got < 0) got = 0;
    if (static_cast<size_t>(got) < n && state_->zstd && !state_->frames.Complete()) {
      throw InputError(state_->path + ": zstd-compressed data is corrupt or truncated: the data ends early (inside a frame)");
    }
    return static_cast<size_t>(got);
  }

 private:
  Compression kind_;
  std::shared_ptr<RawState> state_;
  io::filtering_istreambuf buf_;
};

const bool kInstalled = (SetDecompressor(&OpenDecompressor), true);

}  // namespace

std::unique_ptr<ByteSource> OpenDecompressor(Compression kind, const std::string& path, FILE* file,
                                             std::string prefix) {
  (void)kInstalled;
  return std::make_unique<Decompressed>(kind, path, file, std::move(prefix));
}

}  // namespace gpuslice
