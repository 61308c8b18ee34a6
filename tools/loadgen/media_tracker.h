// MediaTracker: what one virtual viewer checks and records about the media it
// receives, whatever the transport (an RTMP audio/video message and an FLV
// audio/video tag have the same body, FLV spec E.4.2 / E.4.3).
//
// Checks: the first coded video frame is a keyframe (FrameType 1), media
// timestamps are monotonic per track (video and audio separately; a step back
// is counted, not fatal), and the tag headers parse (a header that cannot be
// parsed is a structural error). Records: frame counts, arrival time of the
// first frames, and lag drift per frame in a fixed histogram.
//
// Lag drift of a frame = (arrival - first_arrival) - (media_ts - first_media_ts)
// in ms, over audio and video frames (sequence headers excluded), relative to
// the viewer's first such frame. 0 means the viewer receives media exactly in
// real time; it goes negative while a GOP-cache burst arrives faster than real
// time and grows when delivery falls behind.
//
// Not thread-safe; one per viewer. No allocation per frame.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.h"
#include "loadgen/histograms.h"

namespace cascade::loadgen {

class MediaTracker {
 public:
  // The delta histograms (frame-rate estimation) may be null, and are shared
  // by the viewers of one thread.
  explicit MediaTracker(DeltaHistogram* video_deltas = nullptr,
                        DeltaHistogram* audio_deltas = nullptr)
      : video_deltas_(video_deltas), audio_deltas_(audio_deltas) {}

  // `head` is the start of the body (or all of it when head.size() == length).
  // An error means a structurally broken tag header.
  Status on_video(uint32_t timestamp, std::span<const uint8_t> head, uint32_t length,
                  int64_t now_us);
  Status on_audio(uint32_t timestamp, std::span<const uint8_t> head, uint32_t length,
                  int64_t now_us);

  uint32_t video_frames() const { return video_.frames; }
  uint32_t audio_frames() const { return audio_.frames; }
  uint32_t timestamp_violations() const { return video_.violations + audio_.violations; }
  // Arrival of the first coded frame of a track; -1 if none yet.
  int64_t first_video_us() const { return video_.first_us; }
  int64_t first_audio_us() const { return audio_.first_us; }
  // The first coded video frame was not a keyframe: the viewer is corrupt.
  bool first_video_not_keyframe() const { return first_video_not_keyframe_; }
  // A coded AVC/HEVC/AV1/VP9 frame arrived before any sequence header.
  bool missing_sequence_header() const { return missing_sequence_header_; }
  // Lag of each frame: its drift minus the smallest drift so far (the
  // viewer's best position, reached at the end of the GOP-cache burst).
  const DriftHistogram& lag() const { return lag_; }
  // Largest lag seen, in ms (0 before the first frame).
  int64_t lag_max_ms() const { return lag_.max(); }

 private:
  struct Track {
    uint32_t frames = 0;
    uint32_t violations = 0;
    uint32_t last = 0;
    int64_t extended = 0;  // 64-bit timestamp, unwrapped from 32-bit steps
    int64_t first_us = -1;
    bool config_seen = false;
  };

  void on_frame(Track& track, DeltaHistogram* deltas, uint32_t timestamp, int64_t now_us);

  DeltaHistogram* video_deltas_;
  DeltaHistogram* audio_deltas_;
  Track video_;
  Track audio_;
  bool first_video_not_keyframe_ = false;
  bool missing_sequence_header_ = false;
  bool have_first_media_ = false;
  int64_t first_media_us_ = 0;
  int64_t first_media_ts_ = 0;
  DriftHistogram lag_;
  int64_t min_drift_ms_ = 0;
};

}  // namespace cascade::loadgen
