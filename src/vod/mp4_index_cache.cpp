#include "vod/mp4_index_cache.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/metrics.h"

namespace cascade::vod {
namespace {

class FdSource final : public media::Mp4Source {
 public:
  FdSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error("read: {}", std::strerror(errno));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

}  // namespace

Result<std::shared_ptr<const media::Mp4Index>> Mp4IndexCache::get(int fd, const FileIdentity& id) {
  static Counter& hits = Metrics::global().counter("cascade_vod_index_cache_hits_total");
  static Counter& misses = Metrics::global().counter("cascade_vod_index_cache_misses_total");
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      hits.inc();
      return it->second.index;
    }
  }
  misses.inc();
  FdSource source(fd, id.size);
  auto layout = media::scan_mp4(source);
  if (!layout) return layout.error();
  if (layout->fragmented) return make_error("fragmented MP4");
  auto index = media::read_mp4_index(source, *layout);
  if (!index) return index.error();
  auto shared = std::make_shared<const media::Mp4Index>(std::move(index.value()));
  const size_t size = shared->memory_bytes();
  std::lock_guard lock(mutex_);
  if (entries_.count(id) == 0 && size <= max_bytes_) {
    lru_.push_front(id);
    entries_.emplace(id, Entry{shared, lru_.begin()});
    bytes_ += size;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      auto victim = entries_.find(lru_.back());
      bytes_ -= victim->second.index->memory_bytes();
      entries_.erase(victim);
      lru_.pop_back();
    }
  }
  return std::shared_ptr<const media::Mp4Index>(shared);
}

size_t Mp4IndexCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace cascade::vod
