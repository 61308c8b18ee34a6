// HLS output settings for every live stream (config section [hls]).
#pragma once

#include <cstdint>
#include <string>

#include "protocols/hls/segmenter.h"

namespace cascade::servers {

struct HlsSettings {
  hls::SegmenterConfig segmenter;  // segment and part targets
  uint32_t window_segments = 10;   // segments listed in the live playlists
  bool low_latency = true;         // list parts, blocking reload, preload hints (fMP4 playlist)
  uint32_t dvr_window_s = 0;       // 0: no DVR playlists
  uint64_t dvr_max_bytes = 512ull << 20;  // per stream, both formats together
  uint32_t linger_ms = 30'000;            // an ended stream's playlists stay this long
  std::string cors_origin = "*";          // Access-Control-Allow-Origin; empty: none
};

}  // namespace cascade::servers
