// Mp4IndexCache: parsed MP4 indexes by file identity (device, inode, size,
// mtime), so a seek never re-parses a moov; a changed file has a new
// identity and is parsed again. Bounded by the indexes' memory (least
// recently used dropped first). Thread-safe: one mutex, taken per lookup,
// not held while parsing.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/result.h"
#include "media/mp4_index.h"

namespace cascade::vod {

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_s = 0;
  bool operator==(const FileIdentity&) const = default;
};

class Mp4IndexCache {
 public:
  explicit Mp4IndexCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The index of the open file `fd` with identity `id`: cached, or read
  // (pread) and parsed now on the calling thread. Errors: not an MP4, a
  // fragmented MP4 (served whole, by ranges), or a hostile/broken one.
  Result<std::shared_ptr<const media::Mp4Index>> get(int fd, const FileIdentity& id);

  size_t bytes() const;

 private:
  struct Hash {
    size_t operator()(const FileIdentity& id) const {
      return std::hash<uint64_t>()(id.inode * 1'000'003 ^ id.device ^ id.size * 31 ^
                                   static_cast<uint64_t>(id.mtime_s));
    }
  };
  struct Entry {
    std::shared_ptr<const media::Mp4Index> index;
    std::list<FileIdentity>::iterator lru;
  };

  const size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<FileIdentity, Entry, Hash> entries_;
  std::list<FileIdentity> lru_;  // most recent first
  size_t bytes_ = 0;
};

}  // namespace cascade::vod
