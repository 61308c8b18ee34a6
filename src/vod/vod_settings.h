// How the VOD route serves one root (config [vod]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cascade::vod {

// What `start` means in an FLV seek (vod_flv_seek.h, config vod.flv_start_unit).
enum class FlvStartUnit : uint8_t {
  kBytes,    // a keyframe tag's byte offset (Flash players: JW Player, Flowplayer)
  kSeconds,  // seconds (decimals), with an optional `end`
};

struct VodSettings {
  std::string root;  // a directory; served under `prefix`
  std::string prefix = "/vod/";
  uint32_t stall_timeout_ms = 30'000;  // a client that reads nothing this long is dropped
  std::string cache_control = "public, max-age=3600";
  size_t index_cache_bytes = 256u << 20;  // parsed MP4 indexes kept for seeks
  // HLS from MP4 files (vod_hls.h): the segment duration aimed at (cuts are
  // at keyframes), and how much one segment may hold (422 past it).
  int64_t hls_segment_target_ms = 6'000;
  uint64_t hls_max_segment_bytes = 64u << 20;  // of samples
  uint32_t hls_max_segment_samples = 100'000;  // video and audio together
  FlvStartUnit flv_start_unit = FlvStartUnit::kBytes;
  // GET of a directory path ending in '/' answers an HTML listing
  // (directory_listing.h); off: 400/404 as for any bad path.
  bool list_directories = false;
  // Media bodies paced at the file's bitrate x throttle_factor after
  // throttle_burst_s seconds of media (throttle.h, media_bitrate.h).
  bool throttle = true;
  double throttle_burst_s = 5;
  double throttle_factor = 1.5;
  // Key of signed ?rate= overrides (throttle_override.h); empty: refused.
  std::string throttle_secret;
};

}  // namespace cascade::vod
