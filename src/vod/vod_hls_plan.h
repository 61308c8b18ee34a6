// VodHlsPlan: everything HLS needs to know about one MP4 file, derived once
// from its parsed index (media/mp4_index.h) and kept next to it
// (vod_hls_plan_cache.h): the segment plan (media/mp4_segment_plan.h), the
// muxers' track configs from the sample descriptions
// (media/mp4_track_config.h), and each segment's size in both containers,
// for the master playlist's BANDWIDTH. Immutable once built; shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "media/av_sample.h"
#include "media/mp4_index.h"
#include "media/mp4_segment_plan.h"

namespace cascade::vod {

// What the muxers will write for one segment, in bytes: MPEG-TS counted
// packet by packet as media/mpegts_muxer.h packs it (an upper bound: every
// PES is taken to carry a DTS), fMP4 as media/fmp4_writer.h does.
struct VodHlsSegmentSize {
  uint64_t ts = 0;
  uint64_t fmp4 = 0;
};

struct VodHlsPlan {
  media::Mp4SegmentPlan plan;
  media::TrackSet tracks;                // the plan's video and audio tracks
  std::vector<VodHlsSegmentSize> sizes;  // one per segment
  double frame_rate = 0;                 // video samples per second; 0 without video
  MediaTimeMs segment_target_ms = 0;     // what the plan was made for

  size_t memory_bytes() const;
};

// Errors (answered 422): no video or audio track, a codec the muxers
// cannot carry, a plan error (media/mp4_segment_plan.h).
Result<VodHlsPlan> make_vod_hls_plan(const media::Mp4Index& index, MediaTimeMs segment_target_ms);

}  // namespace cascade::vod
