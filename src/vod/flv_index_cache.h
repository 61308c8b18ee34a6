// FlvIndexCache: FLV keyframe indexes (media/flv_keyframe_index.h) by file
// identity, so a seek never scans a file twice (a FileIndexCache; see
// file_index_cache.h). Counted in cascade_vod_flv_index_cache_{hits,misses}_total.
#pragma once

#include <cstddef>
#include <memory>

#include "core/result.h"
#include "media/flv_keyframe_index.h"
#include "vod/file_index_cache.h"

namespace cascade::vod {

class FlvIndexCache {
 public:
  FlvIndexCache(size_t max_bytes, const flv::FlvIndexLimits& limits = {});

  // The index of the open file `fd` with identity `id`: cached, or built now
  // on the calling thread (pread). Errors: not an FLV, or a broken one.
  Result<std::shared_ptr<const flv::FlvKeyframeIndex>> get(int fd, const FileIdentity& id);

  // Whether get() would answer from the cache (see FileIndexCache::contains).
  bool contains(const FileIdentity& id) const { return cache_.contains(id); }
  const flv::FlvIndexLimits& limits() const { return limits_; }
  size_t bytes() const { return cache_.bytes(); }

 private:
  const flv::FlvIndexLimits limits_;
  FileIndexCache<flv::FlvKeyframeIndex> cache_;
};

}  // namespace cascade::vod
