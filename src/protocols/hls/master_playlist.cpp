#include "protocols/hls/master_playlist.h"

#include <fmt/format.h>

namespace cascade::hls {

std::string render_master_playlist(const std::vector<Variant>& variants) {
  // No EXT-X-INDEPENDENT-SEGMENTS here: it would promise it for every
  // media playlist for ever, and a forced cut (segmenter.h) breaks it; each
  // media playlist says so itself while it holds.
  std::string out = "#EXTM3U\n#EXT-X-VERSION:6\n";
  for (const Variant& v : variants) {
    out += fmt::format("#EXT-X-STREAM-INF:BANDWIDTH={}", v.bandwidth);
    if (v.average_bandwidth > 0) out += fmt::format(",AVERAGE-BANDWIDTH={}", v.average_bandwidth);
    if (!v.codecs.empty()) out += fmt::format(",CODECS=\"{}\"", v.codecs);
    if (v.width > 0 && v.height > 0) out += fmt::format(",RESOLUTION={}x{}", v.width, v.height);
    // 8216bis 4.4.6.2: FRAME-RATE rounded to three decimal places.
    if (v.frame_rate > 0) out += fmt::format(",FRAME-RATE={:.3f}", v.frame_rate);
    out += "\n";
    out += v.uri;
    out += "\n";
  }
  return out;
}

}  // namespace cascade::hls
