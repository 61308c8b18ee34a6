// Packet: one frame packaged for one output format. Immutable and shared by
// pointer: every viewer of that format, on every worker, writes these bytes.
#pragma once

#include <cstdint>

#include "core/shared_bytes.h"
#include "core/time.h"
#include "media/frame.h"

namespace cascade::live {

struct Packet {
  SharedBytes bytes;
  MediaTimeMs dts = 0;
  media::TrackKind kind = media::TrackKind::kData;
  bool keyframe = false;  // a video keyframe
  bool config = false;    // codec configuration or metadata
  // A viewer may start (or skip ahead to) this packet: a video keyframe, or
  // any audio packet of a stream without video.
  bool join_point = false;
  // When the frame entered the hub (steady clock, microseconds): the start
  // of the latency the server adds (cascade_viewer_added_latency_ms).
  int64_t ingest_us = 0;
};

}  // namespace cascade::live
