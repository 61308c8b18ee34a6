// Served: one HLS resource (a rendered playlist, an init section, a segment
// or a part) with everything a response needs, prepared once when the
// resource is made. The common request (HTTP/1.1 keep-alive GET, no
// validator) is answered by writing `head` and `body` as they are: no
// header formatting per request ("package once" applied to HTTP).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/shared_bytes.h"

namespace cascade::servers {

struct Served {
  SharedBytes body;
  std::string content_type;
  std::string cache_control;
  std::string etag;  // quoted
  int64_t modified_unix_s = 0;
  SharedBytes head;           // "HTTP/1.1 200 OK" ... "\r\n\r\n", keep-alive, with CORS
  SharedBytes blocking_head;  // playlists: the same with Cache-Control: no-store
};

using ServedPtr = std::shared_ptr<const Served>;

// Builds a Served and renders its heads. `blocking_cache_control` empty: no
// blocking head (media resources).
ServedPtr make_served(SharedBytes body, std::string_view content_type,
                      std::string_view cache_control, std::string etag, int64_t modified_unix_s,
                      std::string_view cors_origin,
                      std::string_view blocking_cache_control = {});

}  // namespace cascade::servers
