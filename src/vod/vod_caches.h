// What the VOD routes parse out of files and keep, shared by every root so
// the process has one memory budget per kind of index (config [[vod.roots]]:
// server.cpp makes one VodCaches and hands it to each root's route).
// Thread-safe: each cache locks for itself.
#pragma once

#include <cstddef>

#include "vod/flv_index_cache.h"
#include "vod/mp4_index_cache.h"
#include "vod/vod_hls_plan_cache.h"

namespace cascade::vod {

struct VodCaches {
  explicit VodCaches(size_t index_cache_bytes)
      : mp4_indexes(index_cache_bytes),
        flv_indexes(index_cache_bytes),
        hls_plans(index_cache_bytes) {}

  Mp4IndexCache mp4_indexes;  // MP4 seeks, HLS from MP4, bitrates
  FlvIndexCache flv_indexes;  // FLV seeks, bitrates
  VodHlsPlanCache hls_plans;  // HLS from MP4: segment plans, next to their MP4 indexes
};

}  // namespace cascade::vod
