// Timeline: maps a publisher's 32-bit RTMP timestamps onto the stream's
// normalized 64-bit timeline, once, at ingest.
//
// Contract: a new stream keeps its publisher's timestamps (so a publisher
// starting at 0 starts the timeline at 0), 32-bit wrap-around is unwrapped, and a reconnecting publisher continues right after
// the last frame of the previous one. Jumps larger than `max_jump_ms` (clock
// resets) are rebased to continue smoothly. Output dts never decreases per
// track.
#pragma once

#include <cstdint>

#include "core/time.h"
#include "media/frame.h"

namespace cascade::live {

class Timeline {
 public:
  explicit Timeline(int64_t max_jump_ms = 10'000) : max_jump_ms_(max_jump_ms) {}

  // A new publisher session begins (first publish or reconnect).
  void begin_session();
  MediaTimeMs map(media::TrackKind kind, uint32_t rtmp_timestamp);

  MediaTimeMs last_dts() const { return last_dts_; }
  uint64_t clamped() const { return clamped_; }

 private:
  int64_t max_jump_ms_;
  bool started_ = false;         // any frame ever
  bool session_started_ = false;  // a frame in this publisher session
  uint32_t last_raw_ = 0;
  int64_t unwrapped_ = 0;  // last raw timestamp, unwrapped
  int64_t offset_ = 0;     // normalized = unwrapped + offset
  MediaTimeMs last_dts_ = 0;
  MediaTimeMs last_track_dts_[3] = {0, 0, 0};
  uint64_t clamped_ = 0;
};

}  // namespace cascade::live
