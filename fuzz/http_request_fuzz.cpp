// Fuzzes what Cascade does with an HTTP/1.1 request from the network before
// any route runs (RFC 9112): Beast's request parser under the server's
// limits (net/http_server.h HttpLimits: 8 KiB of header, 64 KiB of body),
// fed in two pieces split where the input says, then the request target's
// path and query walked the way the routes walk them (core/query_string.h,
// core/percent_encoding.h, vod/vod_path.h).
//
// Contracts checked: the parser never consumes more than it was given; a
// percent-decoded value re-encodes and decodes to itself; an accepted
// relative path never climbs out of its root.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/percent_encoding.h"
#include "core/query_string.h"
#include "vod/vod_path.h"

namespace {

namespace http = boost::beast::http;

constexpr size_t kHeaderLimit = 8 * 1024;  // HttpLimits::max_header_bytes
constexpr size_t kBodyLimit = 64 * 1024;   // HttpLimits::max_body_bytes

void check_decoding(std::string_view encoded) {
  std::string decoded;
  if (!cascade::percent_decode(encoded, decoded)) return;
  std::string again;
  if (!cascade::percent_decode(cascade::percent_encode(decoded), again) || again != decoded) {
    __builtin_trap();
  }
}

void walk_target(std::string_view target) {
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  check_decoding(path);
  while (auto parameter = cascade::next_query_parameter(query)) {
    check_decoding(parameter->name);
    check_decoding(parameter->value);
  }
  if (auto relative = cascade::vod::relative_path_from_url(path)) {
    const std::string& p = relative.value();
    if (p == ".." || p.starts_with("../") || p.ends_with("/..") ||
        p.find("/../") != std::string::npos || p.starts_with('/')) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = data[0] % (size);  // where the first read ends
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  // As http::async_read does: bytes put() did not consume stay in the
  // buffer and are presented again with the next read's (Beast's contract;
  // its chunk parser resumes scanning where it stopped in them).
  boost::beast::error_code ec;
  std::string buffer;
  for (const std::string_view piece : {input.substr(0, split), input.substr(split)}) {
    buffer.append(piece);
    while (!buffer.empty() && !parser.is_done()) {
      const size_t n = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      if (n > buffer.size()) __builtin_trap();
      buffer.erase(0, n);
      if (ec == http::error::need_more) {
        ec = {};
        break;  // the next piece brings the rest
      }
      if (ec) return 0;
      if (n == 0) break;
    }
    if (parser.is_done()) break;
  }
  if (!parser.is_header_done()) return 0;
  const auto& request = parser.get();
  walk_target(std::string_view(request.target().data(), request.target().size()));
  return 0;
}
