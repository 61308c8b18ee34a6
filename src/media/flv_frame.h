// Frames from FLV tag bodies (equivalently RTMP audio/video/data message
// payloads): classifies keyframes and codec configuration once, at ingest.
#pragma once

#include <cstdint>
#include <optional>

#include "core/shared_bytes.h"
#include "media/frame.h"

namespace cascade::media {

// `tag_type` is the FLV tag type / RTMP message type (8 audio, 9 video, 18
// data). Returns nullopt for a body that cannot be a valid tag (empty, or a
// truncated codec header); `dts` is left 0.
std::optional<Frame> frame_from_flv_tag(uint8_t tag_type, SharedBytes body, bool metadata);

}  // namespace cascade::media
