#include "servers/hls/hls_served.h"

#include <fmt/format.h>

#include "net/http_date.h"

namespace cascade::servers {

namespace {

SharedBytes render_head(const Served& s, std::string_view cache_control,
                        std::string_view cors_origin) {
  std::string head =
      fmt::format("HTTP/1.1 200 OK\r\nServer: cascade\r\nContent-Type: {}\r\n", s.content_type);
  if (!cors_origin.empty()) head += fmt::format("Access-Control-Allow-Origin: {}\r\n", cors_origin);
  head += fmt::format(
      "Cache-Control: {}\r\nETag: {}\r\nLast-Modified: {}\r\n"
      "Content-Length: {}\r\n\r\n",
      cache_control, s.etag, net::format_http_date(s.modified_unix_s), s.body_size());
  return SharedBytes::copy_of(head);
}

ServedPtr finish(std::shared_ptr<Served> served, std::string_view content_type,
                 std::string_view cache_control, std::string etag, int64_t modified_unix_s,
                 std::string_view cors_origin, std::string_view blocking_cache_control) {
  served->content_type = content_type;
  served->cache_control = cache_control;
  served->etag = std::move(etag);
  served->modified_unix_s = modified_unix_s;
  served->head = render_head(*served, cache_control, cors_origin);
  if (!blocking_cache_control.empty()) {
    served->blocking_head = render_head(*served, blocking_cache_control, cors_origin);
  }
  return served;
}

}  // namespace

ServedPtr make_served(SharedBytes body, std::string_view content_type,
                      std::string_view cache_control, std::string etag, int64_t modified_unix_s,
                      std::string_view cors_origin, std::string_view blocking_cache_control) {
  auto served = std::make_shared<Served>();
  served->body = std::move(body);
  return finish(std::move(served), content_type, cache_control, std::move(etag), modified_unix_s,
                cors_origin, blocking_cache_control);
}

ServedPtr make_served(FileSlice body, std::string_view content_type, std::string_view cache_control,
                      std::string etag, int64_t modified_unix_s, std::string_view cors_origin) {
  auto served = std::make_shared<Served>();
  served->body_file = std::move(body);
  return finish(std::move(served), content_type, cache_control, std::move(etag), modified_unix_s,
                cors_origin, {});
}

}  // namespace cascade::servers
