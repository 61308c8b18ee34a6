// How the VOD route serves one root (config [vod]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cascade::vod {

struct VodSettings {
  std::string root;  // a directory; served under `prefix`
  std::string prefix = "/vod/";
  uint32_t stall_timeout_ms = 30'000;  // a client that reads nothing this long is dropped
  std::string cache_control = "public, max-age=3600";
  size_t index_cache_bytes = 256u << 20;  // parsed MP4 indexes kept for seeks
};

}  // namespace cascade::vod
