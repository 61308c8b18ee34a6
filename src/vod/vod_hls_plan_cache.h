// VodHlsPlanCache: HLS plans (vod_hls_plan.h) by file identity, kept next to
// the parsed MP4 indexes (VodCaches, vod_caches.h) so that a playlist or
// segment request never walks the sample tables again (a FileIndexCache; see
// file_index_cache.h for the identity, the memory bound and the
// thread-safety). A plan is about 1/200 of its index (one entry per segment
// instead of one per sample), so it gets a sixteenth of the index budget.
// Counted in cascade_vod_hls_plan_cache_{hits,misses}_total.
//
// The key is the file alone. The segment target (vod.hls_segment_s) may
// differ between roots; a file served by two roots with different targets
// keeps the first plan made, and the other root's plans are made per
// request (an unusual setup, answered correctly, just not cached).
#pragma once

#include <cstddef>
#include <memory>

#include "core/result.h"
#include "media/mp4_index.h"
#include "vod/file_index_cache.h"
#include "vod/vod_hls_plan.h"

namespace cascade::vod {

class VodHlsPlanCache {
 public:
  // `index_cache_bytes`: the parsed-index budget; plans get a sixteenth.
  explicit VodHlsPlanCache(size_t index_cache_bytes)
      : cache_(index_cache_bytes / 16, "cascade_vod_hls_plan_cache_hits_total",
               "cascade_vod_hls_plan_cache_misses_total") {}

  // The plan of the file `id`, whose parsed index is `index`: cached, or
  // built now on the calling thread. Errors: make_vod_hls_plan's.
  Result<std::shared_ptr<const VodHlsPlan>> get(const FileIdentity& id,
                                                const media::Mp4Index& index,
                                                MediaTimeMs segment_target_ms) {
    auto plan = cache_.get(id, [&] { return make_vod_hls_plan(index, segment_target_ms); });
    if (!plan || plan.value()->segment_target_ms == segment_target_ms) return plan;
    auto own = make_vod_hls_plan(index, segment_target_ms);
    if (!own) return own.error();
    return std::make_shared<const VodHlsPlan>(std::move(own.value()));
  }

  size_t bytes() const { return cache_.bytes(); }

 private:
  FileIndexCache<VodHlsPlan> cache_;
};

}  // namespace cascade::vod
