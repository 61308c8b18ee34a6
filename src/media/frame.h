// Frame: one demuxed media unit on a stream's normalized timeline.
//
// Contract: immutable once published to the hub; shared across threads by
// value (the payload is a SharedBytes). `payload` is the FLV tag body, which
// is byte-for-byte the RTMP audio/video/data message payload (FLV spec v10.1
// E.4.2/E.4.3, Enhanced RTMP v1), so RTMP and FLV packagers add only headers.
#pragma once

#include <cstdint>

#include "core/shared_bytes.h"
#include "core/time.h"

namespace cascade::media {

enum class TrackKind : uint8_t { kAudio, kVideo, kData };

struct Frame {
  TrackKind kind = TrackKind::kData;
  // Decode timestamp on the normalized timeline (ms, starts near 0, monotonic per track).
  MediaTimeMs dts = 0;
  // Video: a random-access point (FLV FrameType 1). A viewer may start here.
  bool keyframe = false;
  // Codec configuration (AVC/HEVC/AV1 sequence start, AAC AudioSpecificConfig)
  // or stream metadata (onMetaData); kept and sent first to joining viewers.
  bool config = false;
  SharedBytes payload;
};

}  // namespace cascade::media
