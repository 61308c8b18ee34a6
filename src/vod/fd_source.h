// FdSource: the media parsers' read-at interface (media::Mp4Source, which
// the MP4 and FLV indexes share) over an open file descriptor, by pread(2).
// Blocking: runs on the calling thread, which the VOD route makes an I/O
// pool thread (net/io_pool.h, vod/index_warmup.h).
#pragma once

#include <cstdint>
#include <span>

#include "core/result.h"
#include "media/mp4_index.h"

namespace cascade::vod {

class FdSource final : public media::Mp4Source {
 public:
  // `fd` stays owned by the caller and must outlive this source; `size` is
  // the file's size when it was opened (reads stop there).
  FdSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override;
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

}  // namespace cascade::vod
