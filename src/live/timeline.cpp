#include "live/timeline.h"

#include <algorithm>

namespace cascade::live {

void Timeline::begin_session() { session_started_ = false; }

MediaTimeMs Timeline::map(media::TrackKind kind, uint32_t rtmp_timestamp) {
  if (!session_started_) {
    // Continue one millisecond after the previous session's last frame, or
    // keep the publisher's own timestamps for a new stream.
    unwrapped_ = rtmp_timestamp;
    offset_ = started_ ? last_dts_ + 1 - unwrapped_ : 0;
    session_started_ = true;
    started_ = true;
  } else {
    // RTMP timestamps are 32-bit and wrap (RTMP spec 5.3.1.2.1): a signed
    // difference unwraps them.
    int64_t delta = static_cast<int32_t>(rtmp_timestamp - last_raw_);
    unwrapped_ += delta;
    int64_t candidate = unwrapped_ + offset_;
    if (candidate > last_dts_ + max_jump_ms_ || candidate < last_dts_ - max_jump_ms_) {
      offset_ = last_dts_ + 1 - unwrapped_;
    }
  }
  last_raw_ = rtmp_timestamp;
  MediaTimeMs dts = unwrapped_ + offset_;
  MediaTimeMs& track_last = last_track_dts_[static_cast<int>(kind)];
  if (dts < track_last) {
    dts = track_last;
    ++clamped_;
  }
  track_last = dts;
  last_dts_ = std::max(last_dts_, dts);
  return dts;
}

}  // namespace cascade::live
