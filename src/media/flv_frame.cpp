#include "media/flv_frame.h"

#include "media/flv.h"

namespace cascade::media {

std::optional<Frame> frame_from_flv_tag(uint8_t tag_type, SharedBytes body, bool metadata) {
  Frame frame;
  if (tag_type == flv::kTagAudio) {
    auto tag = flv::parse_audio_tag(body.span());
    if (!tag) return std::nullopt;
    frame.kind = TrackKind::kAudio;
    frame.config = tag->sequence_header;
  } else if (tag_type == flv::kTagVideo) {
    auto tag = flv::parse_video_tag(body.span());
    if (!tag) return std::nullopt;
    frame.kind = TrackKind::kVideo;
    frame.config = tag->packet == flv::VideoPacket::kSequenceStart;
    // FLV spec E.4.3.1: FrameType 1 is a keyframe (a seekable frame).
    frame.keyframe = tag->keyframe() && tag->packet == flv::VideoPacket::kCodedFrames;
  } else if (tag_type == flv::kTagScript) {
    frame.kind = TrackKind::kData;
    frame.config = metadata;
  } else {
    return std::nullopt;
  }
  frame.payload = std::move(body);
  return frame;
}

}  // namespace cascade::media
