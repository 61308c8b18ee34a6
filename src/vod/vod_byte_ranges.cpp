#include "vod/vod_byte_ranges.h"

#include <fmt/format.h>

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
  Status sent = co_await send_file_range(r.connection.socket(), r.file.fd, range.first, length,
                                         r.settings.stall_timeout_ms);
  if (!sent) {
    // The response is cut short: the connection cannot be reused.
    log::get("vod").info("[{}] {}: {}", r.connection.peer(), r.url_path, sent.error().message);
    co_return net::HttpOutcome::kClose;
  }
  co_return net::HttpOutcome::kResponded;
}

}  // namespace cascade::vod
