// What every way of answering a request for one VOD file shares: the opened
// file, its validators, and the response header already carrying them.
// vod_route.cpp resolves the path, opens the file and answers 304 itself;
// then it hands a VodFileRequest to exactly one responder (the whole file or
// byte ranges, an MP4 time seek, ...), which sends the response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/http_server.h"
#include "vod/throttle.h"
#include "vod/vod_path.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

struct VodFileRequest {
  net::HttpConnection& connection;
  net::HttpRequest& request;
  const VodSettings& settings;
  std::string_view url_path;  // as requested, for logs
  std::string_view query;     // after '?'; empty when there is none
  const std::string& relative_path;
  const OpenedFile& file;     // open, read-only; closed by the route
  std::string etag;           // RFC 9110 8.8.3, changes whenever the file does
  std::string last_modified;  // RFC 9110 8.8.2, an HTTP-date
  // 200 with Content-Type, ETag, Last-Modified, Cache-Control and
  // Accept-Ranges set; a responder changes what its answer needs.
  net::HttpResponseHeader header;
  // Paces the body (vod_throttle.h); null: sent as fast as the peer reads.
  // Owned by the route, shared by every part of one response.
  TokenBucket* pacer = nullptr;

  bool is_head() const { return request.method() == net::http::verb::head; }
};

}  // namespace cascade::vod
