#include "vod/vod_flv_seek.h"

#include <fmt/format.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

#include "core/log.h"
#include "core/query_string.h"
#include "vod/fd_source.h"
#include "vod/vod_byte_ranges.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

std::optional<uint64_t> parse_offset(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

// 422: the file cannot be seeked; logged, as the MP4 path does.
awaitable<std::optional<net::HttpOutcome>> cannot_seek(VodFileRequest& r,
                                                       const std::string& reason) {
  log::get("vod").warn("[{}] {}: cannot seek: {}", r.connection.peer(), r.url_path, reason);
  const std::string message = "cannot seek in this file: " + reason + "\n";
  co_await r.connection.send_text(r.request, http::status::unprocessable_entity, message);
  co_return net::HttpOutcome::kResponded;
}

awaitable<std::optional<net::HttpOutcome>> refuse(VodFileRequest& r, http::status status,
                                                  const std::string& reason) {
  const std::string message = "bad seek: " + reason + "\n";
  co_await r.connection.send_text(r.request, status, message);
  co_return net::HttpOutcome::kResponded;
}

}  // namespace

Result<std::optional<flv::FlvSeekRequest>> parse_flv_seek(std::string_view query,
                                                          FlvStartUnit unit) {
  std::optional<flv::FlvSeekRequest> request;
  auto seek = [&]() -> flv::FlvSeekRequest& {
    if (!request) {
      request.emplace();
      request->unit =
          unit == FlvStartUnit::kBytes ? flv::FlvSeekUnit::kBytes : flv::FlvSeekUnit::kSeconds;
    }
    return *request;
  };
  while (const std::optional<QueryParameter> parameter = next_query_parameter(query)) {
    const std::string_view name = parameter->name;
    const std::string_view value = parameter->value;
    if (name != "start" && name != "end") continue;
    if (unit == FlvStartUnit::kBytes) {
      if (name == "end") return make_error("end needs vod.flv_start_unit = \"seconds\"");
      auto offset = parse_offset(value);
      if (!offset) return make_error("start must be a byte offset (a non-negative integer)");
      seek().start_byte = *offset;
      continue;
    }
    auto seconds = parse_seconds(value);
    if (!seconds) return make_error("{} must be seconds (a non-negative number)", name);
    if (name == "start") seek().start_s = *seconds;
    if (name == "end") seek().end_s = *seconds;
  }
  if (request && request->end_s && *request->end_s <= request->start_s) {
    return make_error("end must be after start");
  }
  return request;
}

awaitable<std::optional<net::HttpOutcome>> answer_flv_seek(VodFileRequest& r,
                                                           FlvIndexCache& indexes) {
  auto parsed = parse_flv_seek(r.query, r.settings.flv_start_unit);
  if (!parsed) co_return co_await refuse(r, http::status::bad_request, parsed.error().message);
  if (!*parsed) co_return std::nullopt;
  const flv::FlvSeekRequest seek = **parsed;
  if (seek.unit == flv::FlvSeekUnit::kBytes) {
    // Answered without reading the file.
    if (seek.start_byte == 0) co_return std::nullopt;
    if (seek.start_byte >= r.file.size) {
      const std::string reason = fmt::format("start={} is past the end of the file ({} bytes)",
                                             seek.start_byte, r.file.size);
      co_return co_await refuse(r, http::status::range_not_satisfiable, reason);
    }
  }
  const FileIdentity id = identity_of(r.file);
  auto index = indexes.get(r.file.fd, id);
  if (!index) co_return co_await cannot_seek(r, index.error().message);
  FdSource source(r.file.fd, r.file.size);
  const flv::FlvSeekPlan plan = flv::plan_flv_seek(source, *index.value(), seek, indexes.limits());
  switch (plan.verdict) {
    case flv::FlvSeekVerdict::kWholeFile:
      co_return std::nullopt;
    case flv::FlvSeekVerdict::kBadStart:
      co_return co_await refuse(r, http::status::bad_request, plan.reason);
    case flv::FlvSeekVerdict::kPastEnd:
      co_return co_await refuse(r, http::status::range_not_satisfiable, plan.reason);
    case flv::FlvSeekVerdict::kCannotSeek:
      co_return co_await cannot_seek(r, plan.reason);
    case flv::FlvSeekVerdict::kClip:
      break;
  }
  // Each seek of a file is its own representation (the unit changes what
  // the same query means).
  const std::string keyed_query =
      fmt::format("{}:{}", seek.unit == flv::FlvSeekUnit::kBytes ? "bytes" : "seconds", r.query);
  r.header.set(http::field::etag,
               fmt::format("\"{:x}-{:x}-{:x}-{:x}\"", r.file.inode, r.file.size, r.file.mtime_ns,
                           std::hash<std::string>()(keyed_query)));
  r.header.erase(http::field::accept_ranges);
  co_return co_await answer_head_and_ranges(r, plan.header, plan.ranges);
}

}  // namespace cascade::vod
