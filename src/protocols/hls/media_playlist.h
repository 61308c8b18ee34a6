// Media playlists (RFC 8216 4.3 and its 2nd edition, draft-pantos-hls-
// rfc8216bis, "8216bis" below): the model a live segmenter keeps and its
// rendering, classic or Low-Latency HLS, full or as a delta update.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace cascade::hls {

struct PartEntry {
  MediaTimeMs duration_ms = 0;
  bool independent = false;  // starts with a keyframe (8216bis 4.4.4.9 INDEPENDENT)
  std::string uri;
};

struct SegmentEntry {
  uint64_t msn = 0;              // Media Sequence Number
  MediaTimeMs duration_ms = 0;   // EXTINF, once complete
  int64_t program_date_ms = 0;   // Unix ms of the first sample (EXT-X-PROGRAM-DATE-TIME)
  bool discontinuity = false;    // EXT-X-DISCONTINUITY before this segment
  bool independent = true;       // starts with a keyframe
  bool complete = false;         // the last segment may be open (LL-HLS: parts only)
  std::string uri;
  std::string map_uri;           // EXT-X-MAP (fMP4 init section); empty for MPEG-TS
  std::vector<PartEntry> parts;  // LL-HLS partial segments; may be dropped once old
};

struct LowLatencyParams {
  MediaTimeMs part_target_ms = 0;
  // 8216bis 4.4.3.8: PART-HOLD-BACK at least twice PART-TARGET (we use 3x).
  MediaTimeMs part_hold_back_ms = 0;
  // 8216bis 4.4.3.8: CAN-SKIP-UNTIL at least six Target Durations.
  MediaTimeMs can_skip_until_ms = 0;
};

struct MediaPlaylist {
  uint32_t target_duration_s = 2;
  uint64_t discontinuity_sequence = 0;  // of segments.front()
  bool ended = false;                   // EXT-X-ENDLIST
  std::optional<LowLatencyParams> low_latency;
  std::deque<SegmentEntry> segments;    // oldest first; only the last may be open

  // The Media Sequence Number of the newest complete segment, if any.
  std::optional<uint64_t> last_complete_msn() const;
  // All listed segments start with a keyframe.
  bool independent_segments() const;
};

struct RenderOptions {
  // Delta update (8216bis 6.2.5.1, _HLS_skip=YES): replace the oldest
  // segments beyond CAN-SKIP-UNTIL with EXT-X-SKIP.
  bool skip = false;
  // EXT-X-PART tags are listed for segments within this distance of the
  // playlist's end (8216bis 4.4.4.9: at least three Target Durations).
  MediaTimeMs parts_window_ms = 0;
  // EXT-X-PRELOAD-HINT URI for the next part (8216bis 4.4.5.3); empty: none.
  std::string preload_hint_uri;
};

// Renders the playlist. Preconditions: segments non-empty; only the last
// segment may be incomplete, and only with low_latency set.
std::string render_media_playlist(const MediaPlaylist& playlist, const RenderOptions& options);

// "2026-11-22T05:00:00.123Z" (RFC 3339, ms precision, UTC), for
// EXT-X-PROGRAM-DATE-TIME.
std::string format_program_date(int64_t unix_ms);

// A duration in ms as decimal seconds with 3 decimals ("1.500").
std::string format_seconds(MediaTimeMs ms);

}  // namespace cascade::hls
