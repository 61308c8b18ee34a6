// Warming a VOD file's indexes on the I/O pool before a responder reads them.
//
// The responders (MP4 and FLV time seek, HLS from MP4, the pacer's bitrate)
// ask the caches (vod_caches.h) synchronously, and a miss reads and parses
// the file right there: megabytes of moov from a disk, milliseconds of
// parsing, on the worker that also serves thousands of other connections.
// The route calls warm_indexes() first: a miss is then read and parsed on the
// I/O pool (net/io_pool.h) and its result, index or failure, left in the
// cache, so the responder's lookup is a hit. A hit costs one lookup and no
// thread hop.
//
// Exception: an index larger than the whole cache budget is not kept
// (file_index_cache.h) and is parsed once more by the responder, on the
// worker; the default budget (256 MB) holds a moov of ten million samples.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "core/time.h"

#include "net/io_pool.h"
#include "vod/vod_caches.h"
#include "vod/vod_path.h"

namespace cascade::vod {

// What the responder will read.
struct IndexNeeds {
  bool mp4_index = false;  // an MP4-family file: seek, HLS or pacing
  bool flv_index = false;  // an FLV file: seek or pacing
  bool hls_plan = false;   // HLS from the MP4 (needs mp4_index)
  MediaTimeMs hls_segment_target_ms = 0;
};

boost::asio::awaitable<void> warm_indexes(net::IoPool& io, VodCaches& caches,
                                          const OpenedFile& file, IndexNeeds needs);

}  // namespace cascade::vod
