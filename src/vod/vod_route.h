// The VOD HTTP route: GET/HEAD /vod/{path} from the configured root, with
// MP4 time seek (?start=S[&end=E][&exact=1], seconds; mp4_clip.h), with
// byte ranges (206/416, If-Range), conditional requests (ETag,
// Last-Modified, 304), correct content types, and the body sent by
// sendfile. No directory listings; nothing outside the root (vod_path.h).
#pragma once

#include <string>

#include "core/result.h"
#include "net/http_server.h"

namespace cascade::vod {

struct VodSettings {
  std::string root;                 // a directory; served under `prefix`
  std::string prefix = "/vod/";
  uint32_t stall_timeout_ms = 30'000;  // a client that reads nothing this long is dropped
  std::string cache_control = "public, max-age=3600";
  size_t index_cache_bytes = 256u << 20;  // parsed MP4 indexes kept for seeks
};

// Errors: the root cannot be opened as a directory.
Result<net::HttpRoute> make_vod_route(const VodSettings& settings);

}  // namespace cascade::vod
