// The browser front end, served from files embedded in the binary:
//   GET/HEAD /                        index.html (the live streams, from /api/v1/streams)
//   GET/HEAD /watch/{app}/{stream}    watch.html (plays LL-HLS or HTTP-FLV; reads its path in JS)
//   GET/HEAD /static/{name}           the other files: watch.js, style.css, hls.min.js, ...
// Responses carry a strong ETag (a hash of the content, computed once) and
// answer If-None-Match with 304. Other methods on these paths get 405; any
// other path is left to the next route.
#pragma once

#include "core/shared_bytes.h"

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/http_server.h"
#include "servers/web/web_assets.h"

namespace cascade::servers {

struct WebFile {
  std::string_view body;
  SharedBytes shared;  // the same bytes, sent to every client without a copy
  std::string_view content_type;
  std::string_view cache_control;
  std::string etag;  // strong, quoted: "\"0123456789abcdef\""
};

// The files by URL path. Immutable after construction: shared by all workers.
class WebFiles {
 public:
  // Pages must include index.html and watch.html; *.html files are served
  // only as pages, the rest under /static/.
  explicit WebFiles(std::span<const WebAsset> assets);

  // The file a request path (without the query) names, or nullptr.
  const WebFile* find(std::string_view path) const;

 private:
  std::map<std::string, WebFile, std::less<>> statics_;
  std::map<std::string, WebFile, std::less<>> pages_;
  const WebFile* index_ = nullptr;
  const WebFile* watch_ = nullptr;
};

// A strong entity tag for `bytes`: a quoted 64-bit FNV-1a hash in hex.
std::string make_etag(std::string_view bytes);

// RFC 9110 13.1.2: whether an If-None-Match field value matches `etag`
// ("*", or `etag` in the comma-separated list, compared weakly).
bool if_none_match_matches(std::string_view field, std::string_view etag);

// The route over the embedded files.
net::HttpRoute make_web_route();
// The route over `files`, for tests.
net::HttpRoute make_web_route(std::shared_ptr<const WebFiles> files);

}  // namespace cascade::servers
