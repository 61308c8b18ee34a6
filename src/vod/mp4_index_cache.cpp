#include "vod/mp4_index_cache.h"

#include "vod/fd_source.h"

namespace cascade::vod {

Mp4IndexCache::Mp4IndexCache(size_t max_bytes)
    : cache_(max_bytes, "cascade_vod_index_cache_hits_total",
             "cascade_vod_index_cache_misses_total") {}

Result<std::shared_ptr<const media::Mp4Index>> Mp4IndexCache::get(int fd, const FileIdentity& id) {
  return cache_.get(id, [&]() -> Result<media::Mp4Index> {
    FdSource source(fd, id.size);
    auto layout = media::scan_mp4(source);
    if (!layout) return layout.error();
    if (layout->fragmented) return make_error("fragmented MP4");
    return media::read_mp4_index(source, *layout);
  });
}

}  // namespace cascade::vod
