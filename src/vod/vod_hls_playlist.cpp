#include "vod/vod_hls_playlist.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocols/hls/master_playlist.h"
#include "protocols/hls/media_playlist.h"

namespace cascade::vod {

std::string render_vod_media_playlist(const VodHlsPlan& plan, VodHlsContainer container,
                                      std::string_view version) {
  const auto& segments = plan.plan.segments;
  const bool fmp4 = container == VodHlsContainer::kFmp4;
  std::string out;
  out.reserve(256 + segments.size() * (40 + version.size()));
  // RFC 8216 7: EXT-X-MAP without I-frames-only needs version 6; decimal
  // EXTINF version 3.
  out += fmt::format("#EXTM3U\n#EXT-X-VERSION:{}\n", fmp4 ? 6 : 3);
  // 4.3.3.1: every EXTINF, rounded to the nearest integer, <= the target;
  // rounding the longest up satisfies it for any player's rounding.
  const MediaTimeMs longest = plan.plan.max_segment_ms();
  out +=
      fmt::format("#EXT-X-TARGETDURATION:{}\n", std::max<MediaTimeMs>(1, (longest + 999) / 1000));
  out += "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n";
  if (plan.plan.all_start_with_keyframes()) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (fmp4) out += fmt::format("#EXT-X-MAP:URI=\"init.mp4?v={}\"\n", version);
  const std::string_view extension = fmp4 ? "m4s" : "ts";
  for (size_t i = 0; i < segments.size(); ++i) {
    out += fmt::format("#EXTINF:{},\ns{}.{}?v={}\n", hls::format_seconds(segments[i].duration_ms),
                       i, extension, version);
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string render_vod_master_playlist(const VodHlsPlan& plan) {
  hls::Variant variant;
  uint64_t total_bytes = 0;
  MediaTimeMs total_ms = 0;
  for (size_t i = 0; i < plan.plan.segments.size(); ++i) {
    const MediaTimeMs duration = plan.plan.segments[i].duration_ms;
    const uint64_t bytes = std::max(plan.sizes[i].ts, plan.sizes[i].fmp4);
    variant.bandwidth = std::max<uint64_t>(variant.bandwidth, bytes * 8000 / uint64_t(duration));
    total_bytes += bytes;
    total_ms += duration;
  }
  if (total_ms > 0) variant.average_bandwidth = total_bytes * 8000 / uint64_t(total_ms);
  if (plan.tracks.video) {
    variant.codecs = plan.tracks.video->codec_string;
    variant.width = plan.tracks.video->width;
    variant.height = plan.tracks.video->height;
    variant.frame_rate = plan.frame_rate;
  }
  if (plan.tracks.audio) {
    if (!variant.codecs.empty()) variant.codecs += ',';
    variant.codecs += plan.tracks.audio->codec_string;
  }
  hls::Variant ts = variant;
  variant.uri = "index.m3u8";
  ts.uri = "ts.m3u8";
  return hls::render_master_playlist({variant, ts});
}

}  // namespace cascade::vod
