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

#include "core/memfd_store.h"
#include "core/shared_bytes.h"

namespace cascade::servers {

struct Served {
  // The body: in user memory, or (large media: segments) in a memory file
  // sent by sendfile (core/memfd_store.h). Exactly one is set, or neither
  // for an empty body.
  SharedBytes body;
  FileSlice body_file;
  std::string content_type;
  std::string cache_control;
  std::string etag;  // quoted
  int64_t modified_unix_s = 0;
  SharedBytes head;           // "HTTP/1.1 200 OK" ... "\r\n\r\n", keep-alive, with CORS
  SharedBytes blocking_head;  // playlists: the same with Cache-Control: no-store

  uint64_t body_size() const { return body_file ? body_file.size() : body.size(); }
};

using ServedPtr = std::shared_ptr<const Served>;

// Builds a Served and renders its heads. `blocking_cache_control` empty: no
// blocking head (media resources).
ServedPtr make_served(SharedBytes body, std::string_view content_type,
                      std::string_view cache_control, std::string etag, int64_t modified_unix_s,
                      std::string_view cors_origin, std::string_view blocking_cache_control = {});
// The same with the body in a memory file.
ServedPtr make_served(FileSlice body, std::string_view content_type, std::string_view cache_control,
                      std::string etag, int64_t modified_unix_s, std::string_view cors_origin);

}  // namespace cascade::servers
