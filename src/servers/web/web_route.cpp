#include "servers/web/web_route.h"

#include <cstdint>

namespace cascade::servers {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

constexpr std::string_view kStaticPrefix = "/static/";
constexpr std::string_view kWatchPrefix = "/watch/";

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript";
  if (name.ends_with(".css")) return "text/css";
  if (name.ends_with(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// "{app}/{stream}": exactly two non-empty segments. Their characters are
// the stream routes' business (the page shows their 404s).
bool is_stream_path(std::string_view rest) {
  auto slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) return false;
  return rest.find('/', slash + 1) == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string make_etag(std::string_view bytes) {
  // FNV-1a, 64-bit: enough to tell versions of a file apart.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag(18, '"');
  for (int i = 0; i < 16; ++i) etag[1 + i] = kHex[(hash >> (60 - 4 * i)) & 0xf];
  return etag;
}

bool if_none_match_matches(std::string_view field, std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  while (!field.empty()) {
    auto comma = field.find(',');
    std::string_view tag = trim(field.substr(0, comma));
    field = comma == std::string_view::npos ? std::string_view() : field.substr(comma + 1);
    if (tag == "*") return true;
    // RFC 9110 8.8.3.2: weak comparison ignores the W/ prefix.
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (!tag.empty() && tag == etag) return true;
  }
  return false;
}

WebFiles::WebFiles(std::span<const WebAsset> assets) {
  for (const WebAsset& asset : assets) {
    WebFile file{asset.bytes, SharedBytes::copy_of(asset.bytes), content_type_of(asset.name), {},
                 make_etag(asset.bytes)};
    if (asset.name.ends_with(".html")) {
      file.cache_control = "no-cache";
      pages_.emplace(asset.name, std::move(file));
    } else {
      file.cache_control = "public, max-age=86400";
      statics_.emplace(asset.name, std::move(file));
    }
  }
  if (auto it = pages_.find("index.html"); it != pages_.end()) index_ = &it->second;
  if (auto it = pages_.find("watch.html"); it != pages_.end()) watch_ = &it->second;
}

const WebFile* WebFiles::find(std::string_view path) const {
  if (path == "/") return index_;
  if (path.starts_with(kWatchPrefix)) {
    return is_stream_path(path.substr(kWatchPrefix.size())) ? watch_ : nullptr;
  }
  if (path.starts_with(kStaticPrefix)) {
    auto it = statics_.find(path.substr(kStaticPrefix.size()));
    return it == statics_.end() ? nullptr : &it->second;
  }
  return nullptr;
}

net::HttpRoute make_web_route() {
  static const auto files = std::make_shared<const WebFiles>(embedded_web_assets());
  return make_web_route(files);
}

net::HttpRoute make_web_route(std::shared_ptr<const WebFiles> files) {
  return [files = std::move(files)](net::HttpConnection& connection,
                                    net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    std::string_view target = request.target();
    const WebFile* file = files->find(target.substr(0, target.find('?')));
    if (file == nullptr) co_return net::HttpOutcome::kNotMine;

    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      auto res = connection.response(request, http::status::method_not_allowed, "text/plain",
                                     "method not allowed\n");
      res.set(http::field::allow, "GET, HEAD");
      co_await connection.send(std::move(res));
      co_return net::HttpOutcome::kResponded;
    }

    auto if_none_match = request[http::field::if_none_match];
    const bool not_modified =
        !if_none_match.empty() && if_none_match_matches(if_none_match, file->etag);
    // RFC 9110 15.4.5: a 304 has no content (and send() adds no Content-Length).
    auto header = connection.header(
        request, not_modified ? http::status::not_modified : http::status::ok,
        not_modified ? std::string_view{} : file->content_type);
    if (!not_modified) header.set("X-Content-Type-Options", "nosniff");
    header.set(http::field::etag, file->etag);
    header.set(http::field::cache_control, file->cache_control);
    SharedBytes body;  // a named local: no temporaries in co_await (GCC 12)
    if (!not_modified) body = file->shared;
    co_await connection.send(request, std::move(header), std::move(body));
    co_return net::HttpOutcome::kResponded;
  };
}

}  // namespace cascade::servers
