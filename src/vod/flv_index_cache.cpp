#include "vod/flv_index_cache.h"

#include "vod/fd_source.h"

namespace cascade::vod {

FlvIndexCache::FlvIndexCache(size_t max_bytes, const flv::FlvIndexLimits& limits)
    : limits_(limits),
      cache_(max_bytes, "cascade_vod_flv_index_cache_hits_total",
             "cascade_vod_flv_index_cache_misses_total") {}

Result<std::shared_ptr<const flv::FlvKeyframeIndex>> FlvIndexCache::get(int fd,
                                                                        const FileIdentity& id) {
  return cache_.get(id, [&]() -> Result<flv::FlvKeyframeIndex> {
    FdSource source(fd, id.size);
    return flv::read_flv_keyframe_index(source, limits_);
  });
}

}  // namespace cascade::vod
