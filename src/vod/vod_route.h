// The VOD HTTP route: GET/HEAD /vod/{path} from the configured root, with
// MP4 time seek (?start=S[&end=E][&exact=1], seconds; mp4_clip.h), with
// byte ranges (206/416, If-Range), conditional requests (ETag,
// Last-Modified, 304), correct content types, and the body sent by
// sendfile. No directory listings; nothing outside the root (vod_path.h).
#pragma once

#include "core/result.h"
#include "net/http_server.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

// Errors: the root cannot be opened as a directory.
Result<net::HttpRoute> make_vod_route(const VodSettings& settings);

}  // namespace cascade::vod
