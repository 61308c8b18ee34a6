#include "protocols/hls/media_playlist.h"

#include <fmt/format.h>

#include <ctime>

namespace cascade::hls {

std::optional<uint64_t> MediaPlaylist::last_complete_msn() const {
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->complete) return it->msn;
  }
  return std::nullopt;
}

bool MediaPlaylist::independent_segments() const {
  for (const SegmentEntry& segment : segments) {
    if (!segment.independent) return false;
  }
  return true;
}

std::string format_seconds(MediaTimeMs ms) {
  if (ms < 0) ms = 0;
  return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

std::string format_program_date(int64_t unix_ms) {
  // Floor division: before 1970 the milliseconds still count up from the
  // second (-1 ms is 23:59:59.999 the day before, not "00:00:00.-01").
  int64_t seconds = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

namespace {

// How many leading segments a delta update replaces with EXT-X-SKIP
// (8216bis 6.2.5.1): those entirely before the Skip Boundary, CAN-SKIP-UNTIL
// from the playlist's end. A skipped run never includes a discontinuity (its
// tag would be lost to clients merging the delta) nor the open segment.
size_t skippable(const MediaPlaylist& playlist) {
  if (!playlist.low_latency || playlist.low_latency->can_skip_until_ms <= 0) return 0;
  MediaTimeMs total = 0;
  for (const SegmentEntry& segment : playlist.segments) total += segment.duration_ms;
  MediaTimeMs before_boundary = total - playlist.low_latency->can_skip_until_ms;
  size_t count = 0;
  MediaTimeMs elapsed = 0;
  for (const SegmentEntry& segment : playlist.segments) {
    if (!segment.complete || segment.discontinuity) break;
    if (elapsed + segment.duration_ms > before_boundary) break;
    elapsed += segment.duration_ms;
    ++count;
  }
  return count;
}

}  // namespace

std::string render_media_playlist(const MediaPlaylist& playlist, const RenderOptions& options) {
  std::string out;
  out.reserve(256 + playlist.segments.size() * 160);
  auto line = [&out](auto&&... parts) {
    (out.append(parts), ...);
    out.push_back('\n');
  };
  const bool low_latency = playlist.low_latency.has_value();
  const bool has_map = !playlist.segments.empty() && !playlist.segments.front().map_uri.empty();
  // RFC 8216 7 / 8216bis 8: EXT-X-MAP with fMP4 needs version 6; EXT-X-SKIP
  // (Playlist Delta Updates) version 9; decimal EXTINF version 3.
  const int version = low_latency ? 9 : has_map ? 6 : 3;
  line("#EXTM3U");
  line("#EXT-X-VERSION:", std::to_string(version));
  line("#EXT-X-TARGETDURATION:", std::to_string(playlist.target_duration_s));
  if (low_latency) {
    const LowLatencyParams& ll = *playlist.low_latency;
    line("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=",
         format_seconds(ll.can_skip_until_ms), ",PART-HOLD-BACK=",
         format_seconds(ll.part_hold_back_ms));
    line("#EXT-X-PART-INF:PART-TARGET=", format_seconds(ll.part_target_ms));
  }
  const uint64_t first_msn = playlist.segments.empty() ? 0 : playlist.segments.front().msn;
  line("#EXT-X-MEDIA-SEQUENCE:", std::to_string(first_msn));
  if (playlist.discontinuity_sequence > 0) {
    line("#EXT-X-DISCONTINUITY-SEQUENCE:", std::to_string(playlist.discontinuity_sequence));
  }
  if (playlist.independent_segments()) line("#EXT-X-INDEPENDENT-SEGMENTS");

  const size_t skipped = options.skip ? skippable(playlist) : 0;
  if (skipped > 0) line("#EXT-X-SKIP:SKIPPED-SEGMENTS=", std::to_string(skipped));

  // Where the parts window starts, as elapsed time from the front.
  MediaTimeMs total = 0;
  for (const SegmentEntry& segment : playlist.segments) total += segment.duration_ms;
  const MediaTimeMs parts_from = total - options.parts_window_ms;

  std::string_view current_map;
  MediaTimeMs elapsed = 0;
  for (size_t i = 0; i < playlist.segments.size(); ++i) {
    const SegmentEntry& segment = playlist.segments[i];
    const MediaTimeMs start = elapsed;
    elapsed += segment.duration_ms;
    if (i < skipped) {
      current_map = segment.map_uri;
      continue;
    }
    const bool list_parts = low_latency && (!segment.complete || start + segment.duration_ms > parts_from);
    if (!segment.complete && (segment.parts.empty() || !list_parts)) break;
    if (segment.discontinuity) line("#EXT-X-DISCONTINUITY");
    if (!segment.map_uri.empty() && (segment.map_uri != current_map || i == skipped)) {
      line("#EXT-X-MAP:URI=\"", segment.map_uri, "\"");
      current_map = segment.map_uri;
    }
    line("#EXT-X-PROGRAM-DATE-TIME:", format_program_date(segment.program_date_ms));
    if (list_parts) {
      for (const PartEntry& part : segment.parts) {
        line("#EXT-X-PART:DURATION=", format_seconds(part.duration_ms), ",URI=\"", part.uri, "\"",
             part.independent ? ",INDEPENDENT=YES" : "");
      }
    }
    if (segment.complete) {
      line("#EXTINF:", format_seconds(segment.duration_ms), ",");
      line(segment.uri);
    }
  }
  if (low_latency && !playlist.ended && !options.preload_hint_uri.empty()) {
    line("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"", options.preload_hint_uri, "\"");
  }
  if (playlist.ended) line("#EXT-X-ENDLIST");
  return out;
}

}  // namespace cascade::hls
