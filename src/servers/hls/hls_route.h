// The HLS HTTP route: playlists, init sections, segments and parts of live
// streams, from memory (URL layout in protocols/hls/hls_request.h).
#pragma once

#include "access/access_control.h"
#include "net/http_server.h"
#include "servers/hls/hls_registry.h"

namespace cascade::servers {

// Every request (playlists, init sections, segments, parts) is checked by
// `access` when play is not open (signature: one HMAC; webhook: cached per
// worker). With signed play (or an on_play webhook), playlists get the
// request's token (or its parameters) appended to every URI they hold, per
// request; segment bytes never change.
net::HttpRoute make_hls_route(HlsRegistry& registry, access::AccessControl& access);

}  // namespace cascade::servers
