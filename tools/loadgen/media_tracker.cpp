#include "loadgen/media_tracker.h"

#include <cmath>

#include "media/flv.h"

namespace cascade::loadgen {

void MediaTracker::on_frame(Track& track, DeltaHistogram* deltas, uint32_t timestamp,
                            int64_t now_us) {
  if (track.frames == 0) {
    track.first_us = now_us;
    track.extended = timestamp;
  } else {
    // 32-bit millisecond timestamps wrap (RTMP spec 5.3.1.2.1); a signed
    // step unwraps them.
    int32_t step = static_cast<int32_t>(timestamp - track.last);
    if (step < 0) ++track.violations;
    track.extended += step;
    if (deltas) deltas->add(step);
  }
  track.last = timestamp;
  ++track.frames;

  if (!have_first_media_) {
    have_first_media_ = true;
    first_media_us_ = now_us;
    first_media_ts_ = track.extended;
  }
  double drift = static_cast<double>(now_us - first_media_us_) / 1000.0 -
                 static_cast<double>(track.extended - first_media_ts_);
  int64_t drift_ms = std::llround(drift);
  if (drift_ms < min_drift_ms_) min_drift_ms_ = drift_ms;
  lag_.add(drift_ms - min_drift_ms_);
}

Status MediaTracker::on_video(uint32_t timestamp, std::span<const uint8_t> head, uint32_t length,
                              int64_t now_us) {
  if (length == 0) return {};  // nothing to play; not counted
  flv::VideoTagInfo info;
  if (auto parsed = flv::parse_video_tag(head); parsed) {
    info = *parsed;
  } else if (head.size() == length) {
    return make_error("bad video tag header: {}", parsed.error().message);
  } else {
    // A header longer than the kept prefix (ModEx, multitrack): FrameType is
    // bits 4-6 of the first byte in legacy and enhanced headers alike.
    info.frame_type = (head[0] >> 4) & 0x07;
    info.packet = flv::VideoPacket::kCodedFrames;
  }
  if (info.packet == flv::VideoPacket::kSequenceStart) {
    video_.config_seen = true;
    return {};
  }
  const bool coded = info.frame_type != 5 && (info.packet == flv::VideoPacket::kCodedFrames ||
                                              info.packet == flv::VideoPacket::kOther);
  if (!coded) return {};
  if (video_.frames == 0) {
    // FLV spec E.4.3.1: FrameType 1 = key frame; a player cannot start elsewhere.
    if (!info.keyframe()) first_video_not_keyframe_ = true;
    bool needs_config = info.codec == flv::VideoCodec::kH264 ||
                        info.codec == flv::VideoCodec::kHevc ||
                        info.codec == flv::VideoCodec::kAv1 || info.codec == flv::VideoCodec::kVp9;
    if (needs_config && !video_.config_seen) missing_sequence_header_ = true;
  }
  on_frame(video_, video_deltas_, timestamp, now_us);
  return {};
}

Status MediaTracker::on_audio(uint32_t timestamp, std::span<const uint8_t> head, uint32_t length,
                              int64_t now_us) {
  if (length == 0) return {};
  auto parsed = flv::parse_audio_tag(head);
  if (!parsed) {
    if (head.size() == length) {
      return make_error("bad audio tag header: {}", parsed.error().message);
    }
  } else if (parsed->sequence_header) {
    audio_.config_seen = true;
    return {};
  }
  on_frame(audio_, audio_deltas_, timestamp, now_us);
  return {};
}

}  // namespace cascade::loadgen
