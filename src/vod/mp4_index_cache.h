// Mp4IndexCache: parsed MP4 indexes (media/mp4_index.h) by file identity, so
// a seek never re-parses a moov (a FileIndexCache; see file_index_cache.h
// for the identity, the memory bound and the thread-safety). Counted in
// cascade_vod_index_cache_{hits,misses}_total.
#pragma once

#include <cstddef>
#include <memory>

#include "core/result.h"
#include "media/mp4_index.h"
#include "vod/file_index_cache.h"

namespace cascade::vod {

class Mp4IndexCache {
 public:
  explicit Mp4IndexCache(size_t max_bytes);

  // The index of the open file `fd` with identity `id`: cached, or read
  // (pread) and parsed now on the calling thread. Errors: not an MP4, a
  // fragmented MP4 ("fragmented MP4": served whole, by ranges), or a
  // hostile/broken one.
  Result<std::shared_ptr<const media::Mp4Index>> get(int fd, const FileIdentity& id);

  // Whether get() would answer from the cache (see FileIndexCache::contains).
  bool contains(const FileIdentity& id) const { return cache_.contains(id); }
  size_t bytes() const { return cache_.bytes(); }

 private:
  FileIndexCache<media::Mp4Index> cache_;
};

}  // namespace cascade::vod
