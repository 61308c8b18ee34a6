// The HLS HTTP route: playlists, init sections, segments and parts of live
// streams, from memory (URL layout in protocols/hls/hls_request.h).
#pragma once

#include "net/http_server.h"
#include "servers/hls/hls_registry.h"

namespace cascade::servers {

net::HttpRoute make_hls_route(HlsRegistry& registry);

}  // namespace cascade::servers
