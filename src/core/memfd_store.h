// Bytes kept in a memory file (memfd_create(2)) instead of the heap, so a
// server can send them with sendfile(2): the kernel gives the socket
// references to the file's pages instead of copying the bytes out of user
// memory on every send. For large, immutable, often-sent bodies (HLS
// segments); small ones are cheaper as SharedBytes in one gathered write.
//
// A MemfdStore is one memory file that only grows: each append lands on a
// page boundary, so each FileSlice owns whole pages, and they are given back
// (fallocate PUNCH_HOLE, the file stays sparse) when the slice's last handle
// goes. Pages already queued to a socket stay valid until sent: the socket
// holds its own page references.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade {

namespace detail {
struct MemfdFile;
}

// An immutable range of a memory file; copying it shares it. Any thread may
// read it (pread/sendfile on fd()) and drop it.
class FileSlice {
 public:
  FileSlice() = default;
  int fd() const;
  uint64_t offset() const;
  uint64_t size() const;
  explicit operator bool() const { return extent_ != nullptr; }

 private:
  friend class MemfdStore;
  struct Extent;
  explicit FileSlice(std::shared_ptr<const Extent> extent) : extent_(std::move(extent)) {}
  std::shared_ptr<const Extent> extent_;
};

class MemfdStore {
 public:
  // Errors: memfd_create failed (out of descriptors or memory).
  static Result<std::unique_ptr<MemfdStore>> create(std::string_view name);
  ~MemfdStore();
  MemfdStore(const MemfdStore&) = delete;
  MemfdStore& operator=(const MemfdStore&) = delete;

  // Copies `bytes` into the file at the next page boundary. One appender at
  // a time (not thread-safe); slices outlive the store. Errors: the write
  // failed (ENOSPC/ENOMEM: memory is short).
  Result<FileSlice> append(std::span<const uint8_t> bytes);

 private:
  explicit MemfdStore(std::shared_ptr<detail::MemfdFile> file);
  std::shared_ptr<detail::MemfdFile> file_;
  uint64_t next_offset_ = 0;
};

}  // namespace cascade
