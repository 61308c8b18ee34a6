// HTTP-FLV playback: GET /{app}/{stream}.flv streams the live stream as an
// FLV file, from the newest keyframe. HTTP/1.1 responses use chunked
// transfer coding; HTTP/1.0 responses are delimited by closing.
#pragma once

#include "access/access_control.h"
#include "live/hub.h"
#include "net/http_server.h"

namespace cascade::servers {

// Play is checked by `access` (signed URLs, on_play) before anything else,
// so a refused client learns nothing about which streams are live.
net::HttpRoute make_http_flv_route(live::Hub& hub, live::FormatId flv_format,
                                   access::AccessControl& access);

}  // namespace cascade::servers
