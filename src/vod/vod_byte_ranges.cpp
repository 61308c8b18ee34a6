#include "vod/vod_byte_ranges.h"

#include <fmt/format.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "vod/file_sender.h"
#include "vod/http_range.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

awaitable<net::HttpOutcome> answer_whole_or_range(VodFileRequest& r) {
  const uint64_t size = r.file.size;
  ByteRange range{0, size == 0 ? 0 : size - 1};
  uint64_t length = size;
  const auto range_header = r.request[http::field::range];
  if (!range_header.empty() &&
      if_range_allows(r.request[http::field::if_range], r.etag, r.last_modified)) {
    switch (evaluate_range(range_header, size, range)) {
      case RangeResult::kSatisfiable:
        r.header.result(http::status::partial_content);
        r.header.set(http::field::content_range,
                     fmt::format("bytes {}-{}/{}", range.first, range.last, size));
        length = range.length();
        break;
      case RangeResult::kUnsatisfiable: {
        r.header.result(http::status::range_not_satisfiable);
        r.header.set(http::field::content_range, fmt::format("bytes */{}", size));
        co_await r.connection.send(r.request, std::move(r.header), SharedBytes{});
        co_return net::HttpOutcome::kResponded;
      }
      case RangeResult::kNone:
        break;
    }
  }
  co_await r.connection.send_header(r.request, std::move(r.header), length);
  if (r.is_head() || length == 0) co_return net::HttpOutcome::kResponded;
  Status sent = co_await send_file_range(r.connection, r.file.fd, range.first, length,
                                         r.settings.stall_timeout_ms, r.pacer);
  if (!sent) {
    // The response is cut short: the connection cannot be reused.
    log::get("vod").info("[{}] {}: {}", r.connection.peer(), r.url_path, sent.error().message);
    co_return net::HttpOutcome::kClose;
  }
  co_return net::HttpOutcome::kResponded;
}

namespace {

// The body: `pieces` (of `memory` or of the file) then `ranges` of the file.
awaitable<net::HttpOutcome> send_pieces(VodFileRequest& r, std::span<const uint8_t> memory,
                                        std::span<const media::Mp4ClipPiece> pieces,
                                        std::span<const media::FileRange> ranges) {
  uint64_t total = 0;
  for (const media::Mp4ClipPiece& piece : pieces) total += piece.length;
  for (const media::FileRange& range : ranges) total += range.length;
  co_await r.connection.send_header(r.request, std::move(r.header), total);
  if (r.is_head()) co_return net::HttpOutcome::kResponded;
  auto cut_short = [&](const Status& sent) {
    // The response is cut short: the connection cannot be reused.
    log::get("vod").info("[{}] {}: {}", r.connection.peer(), r.url_path, sent.error().message);
    return net::HttpOutcome::kClose;
  };
  for (const media::Mp4ClipPiece& piece : pieces) {
    if (piece.from_file) {
      Status sent = co_await send_file_range(r.connection, r.file.fd, piece.offset, piece.length,
                                             r.settings.stall_timeout_ms, r.pacer);
      if (!sent) co_return cut_short(sent);
      continue;
    }
    const auto bytes = memory.subspan(static_cast<size_t>(piece.offset),
                                      static_cast<size_t>(piece.length));
    const auto buffer = boost::asio::buffer(bytes.data(), bytes.size());
    co_await boost::asio::async_write(r.connection.stream(), buffer, boost::asio::use_awaitable);
    if (r.pacer) r.pacer->consume(bytes.size());
  }
  for (const media::FileRange& range : ranges) {
    Status sent = co_await send_file_range(r.connection, r.file.fd, range.offset, range.length,
                                           r.settings.stall_timeout_ms, r.pacer);
    if (!sent) co_return cut_short(sent);
  }
  co_return net::HttpOutcome::kResponded;
}

}  // namespace

awaitable<net::HttpOutcome> answer_head_and_ranges(VodFileRequest& r, std::span<const uint8_t> head,
                                                   std::span<const media::FileRange> ranges) {
  const media::Mp4ClipPiece whole{false, 0, head.size()};
  // No temporaries in a co_await expression (GCC 12 coroutine bug).
  const std::span<const media::Mp4ClipPiece> pieces(&whole, head.empty() ? 0 : 1);
  co_return co_await send_pieces(r, head, pieces, ranges);
}

awaitable<net::HttpOutcome> answer_mp4_clip(VodFileRequest& r, const media::Mp4Clip& clip) {
  const std::span<const uint8_t> memory = clip.head.span();
  co_return co_await send_pieces(r, memory, clip.head_pieces, clip.ranges);
}

}  // namespace cascade::vod
