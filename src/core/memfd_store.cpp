#include "core/memfd_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cascade {

namespace detail {
struct MemfdFile {
  explicit MemfdFile(int descriptor) : fd(descriptor) {}
  ~MemfdFile() { ::close(fd); }
  MemfdFile(const MemfdFile&) = delete;
  MemfdFile& operator=(const MemfdFile&) = delete;
  const int fd;
};
}  // namespace detail

struct FileSlice::Extent {
  Extent(std::shared_ptr<detail::MemfdFile> f, uint64_t at, uint64_t length, uint64_t span)
      : file(std::move(f)), offset(at), size(length), pages_bytes(span) {}
  ~Extent() {
    // Gives the pages back; the file keeps its size, the range becomes a
    // hole. Nothing to do on failure: the memory goes with the file.
    ::fallocate(file->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                static_cast<off_t>(pages_bytes));
  }
  Extent(const Extent&) = delete;
  Extent& operator=(const Extent&) = delete;
  const std::shared_ptr<detail::MemfdFile> file;
  const uint64_t offset, size, pages_bytes;
};

int FileSlice::fd() const {
  return extent_->file->fd;
}
uint64_t FileSlice::offset() const {
  return extent_->offset;
}
uint64_t FileSlice::size() const {
  return extent_->size;
}

Result<std::unique_ptr<MemfdStore>> MemfdStore::create(std::string_view name) {
  const std::string label(name.substr(0, 200));
  const int fd = ::memfd_create(label.c_str(), MFD_CLOEXEC);
  if (fd < 0) return make_error("memfd_create: {}", std::strerror(errno));
  return std::unique_ptr<MemfdStore>(new MemfdStore(std::make_shared<detail::MemfdFile>(fd)));
}

MemfdStore::MemfdStore(std::shared_ptr<detail::MemfdFile> file) : file_(std::move(file)) {}
MemfdStore::~MemfdStore() = default;

Result<FileSlice> MemfdStore::append(std::span<const uint8_t> bytes) {
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t at = next_offset_;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(file_->fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = n < 0 ? std::strerror(errno) : "wrote nothing";
      // Whatever was written is given back with the range.
      ::fallocate(file_->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(at),
                  static_cast<off_t>(done + page));
      return make_error("memfd write: {}", reason);
    }
    done += static_cast<size_t>(n);
  }
  const uint64_t span = (bytes.size() + page - 1) / page * page;
  next_offset_ = at + span;
  return FileSlice(std::make_shared<const FileSlice::Extent>(file_, at, bytes.size(), span));
}

}  // namespace cascade
