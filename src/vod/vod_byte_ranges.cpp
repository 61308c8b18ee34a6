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

awaitable<net::HttpOutcome> answer_head_and_ranges(VodFileRequest& r, std::span<const uint8_t> head,
                                                   std::span<const media::FileRange> ranges) {
  uint64_t total = head.size();
  for (const media::FileRange& piece : ranges) total += piece.length;
  co_await r.connection.send_header(r.request, std::move(r.header), total);
  if (r.is_head()) co_return net::HttpOutcome::kResponded;
  co_await boost::asio::async_write(r.connection.stream(),
                                    boost::asio::buffer(head.data(), head.size()),
                                    boost::asio::use_awaitable);
  if (r.pacer) r.pacer->consume(head.size());
  for (const media::FileRange& piece : ranges) {
    Status sent = co_await send_file_range(r.connection, r.file.fd, piece.offset, piece.length,
                                           r.settings.stall_timeout_ms, r.pacer);
    if (!sent) {
      // The response is cut short: the connection cannot be reused.
      log::get("vod").info("[{}] {}: {}", r.connection.peer(), r.url_path, sent.error().message);
      co_return net::HttpOutcome::kClose;
    }
  }
  co_return net::HttpOutcome::kResponded;
}

}  // namespace cascade::vod
