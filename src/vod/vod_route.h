// The VOD HTTP route of one root: GET/HEAD {prefix}{path} from its
// directory (vod.root at /vod/, each [[vod.roots]] at its prefix), with
// MP4 time seek (?start=S[&end=E][&exact=1], seconds; mp4_clip.h), with
// byte ranges (206/416, If-Range), conditional requests (ETag,
// Last-Modified, 304), correct content types, the body sent by sendfile
// and paced (vod_throttle.h), and directory listings when the root enables
// them (vod_directory.h); MP4-family files also as HLS at
// {prefix}{file}/master.m3u8 and the rest (vod_hls.h). Nothing outside the
// root (vod_path.h).
#pragma once

#include <memory>

#include "core/result.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "vod/vod_caches.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

// The route owns the root's directory descriptor; `caches` and `io` are
// shared by every root's route. A file's index (MP4 moov, FLV keyframes) is
// read and parsed on `io` (index_warmup.h), as are HLS segments' samples, so
// a cold file never stalls the worker's other connections; sendfile still
// runs on the worker. Errors: the root cannot be opened as a directory.
Result<net::HttpRoute> make_vod_route(const VodSettings& settings,
                                      std::shared_ptr<VodCaches> caches,
                                      std::shared_ptr<net::IoPool> io);

}  // namespace cascade::vod
