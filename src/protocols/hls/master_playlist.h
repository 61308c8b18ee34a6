// Master (multivariant) playlists, RFC 8216 4.3.4.2 / 8216bis 4.4.6.2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cascade::hls {

struct Variant {
  uint64_t bandwidth = 0;          // peak segment bit rate, bits/s (required)
  uint64_t average_bandwidth = 0;  // 0: omitted
  std::string codecs;              // RFC 6381 list, e.g. "avc1.64001f,mp4a.40.2"
  uint32_t width = 0, height = 0;  // 0: no RESOLUTION (audio-only)
  double frame_rate = 0;           // 0: omitted
  std::string uri;
};

std::string render_master_playlist(const std::vector<Variant>& variants);

}  // namespace cascade::hls
