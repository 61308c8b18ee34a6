#include "vod/vod_mp4_seek.h"

#include <fmt/format.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

#include "core/log.h"
#include "core/query_string.h"
#include "vod/vod_byte_ranges.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

Result<std::optional<media::Mp4ClipRequest>> parse_mp4_seek(std::string_view query) {
  std::optional<media::Mp4ClipRequest> request;
  auto number = [](std::string_view text) -> std::optional<double> {
    if (text.empty() || text.size() > 32) return std::nullopt;
    std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < 0)
      return std::nullopt;
    return value;
  };
  while (const std::optional<QueryParameter> parameter = next_query_parameter(query)) {
    const std::string_view name = parameter->name;
    const std::string_view value = parameter->value;
    if (name == "start" || name == "end") {
      auto seconds = number(value);
      if (!seconds) return make_error("{} must be seconds (a non-negative number)", name);
      if (!request) request.emplace();
      if (name == "start") request->start_s = *seconds;
      if (name == "end") request->end_s = *seconds;
    } else if (name == "exact") {
      if (!request) request.emplace();
      request->exact_start = value == "1" || value == "true";
    }
  }
  if (request && request->end_s && *request->end_s <= request->start_s) {
    return make_error("end must be after start");
  }
  return request;
}

awaitable<std::optional<net::HttpOutcome>> answer_mp4_seek(VodFileRequest& r,
                                                           Mp4IndexCache& indexes) {
  auto seek = parse_mp4_seek(r.query);
  if (!seek) {
    const std::string message = "bad seek: " + seek.error().message + "\n";
    co_await r.connection.send_text(r.request, http::status::bad_request, message);
    co_return net::HttpOutcome::kResponded;
  }
  if (!*seek) co_return std::nullopt;
  const FileIdentity id = identity_of(r.file);
  auto index = indexes.get(r.file.fd, id);
  // Fragmented MP4 has no moov sample tables: it is served whole, by ranges.
  if (!index && index.error().message == "fragmented MP4") co_return std::nullopt;
  if (!index) {
    log::get("vod").warn("[{}] {}: cannot seek: {}", r.connection.peer(), r.url_path,
                         index.error().message);
    const std::string message = "cannot seek in this file: " + index.error().message + "\n";
    co_await r.connection.send_text(r.request, http::status::unprocessable_entity, message);
    co_return net::HttpOutcome::kResponded;
  }
  auto clip = media::build_mp4_clip(*index.value(), **seek);
  if (!clip) {
    const std::string message = "bad seek: " + clip.error().message + "\n";
    co_await r.connection.send_text(r.request, http::status::range_not_satisfiable, message);
    co_return net::HttpOutcome::kResponded;
  }
  // Each clip of a file is its own representation.
  r.header.set(http::field::etag,
               fmt::format("\"{:x}-{:x}-{:x}-{:x}\"", r.file.inode, r.file.size, r.file.mtime_ns,
                           std::hash<std::string_view>()(r.query)));
  r.header.erase(http::field::accept_ranges);
  // The clip paces as the file does: its bitrate is the file's.
  co_return co_await answer_mp4_clip(r, *clip);
}

}  // namespace cascade::vod
