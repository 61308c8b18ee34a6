#include "vod/vod_route.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/log.h"
#include "core/metrics.h"
#include "media/mp4_clip.h"
#include "net/http_date.h"
#include "vod/file_sender.h"
#include "vod/http_range.h"
#include "vod/mime_type.h"
#include "vod/mp4_index_cache.h"
#include "vod/vod_path.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

spdlog::logger& logger() {
  return log::get("vod");
}

struct Fd {
  explicit Fd(int value) : fd(value) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

bool is_mp4_family(std::string_view path) {
  const std::string_view type = mime_type_for(path);
  return type == "video/mp4" || type == "audio/mp4" || type == "video/quicktime" ||
         type == "video/3gpp";
}

// ?start=S&end=E&exact=1 (seconds, decimals). nullopt: no seek asked.
// Errors: a value that is not a finite non-negative number.
Result<std::optional<media::Mp4ClipRequest>> parse_seek(std::string_view query) {
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
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
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

}  // namespace

Result<net::HttpRoute> make_vod_route(const VodSettings& settings) {
  const int root = ::open(settings.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return make_error("vod.root '{}': {}", settings.root, std::strerror(errno));
  }
  auto root_fd = std::make_shared<Fd>(root);
  auto index_cache = std::make_shared<Mp4IndexCache>(settings.index_cache_bytes);
  return net::HttpRoute([root_fd, settings, index_cache](
                            net::HttpConnection& connection,
                            net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    static Counter& served = Metrics::global().counter("cascade_vod_requests_total");
    static Counter& refused = Metrics::global().counter("cascade_vod_refused_total");
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (!path.starts_with(settings.prefix)) co_return net::HttpOutcome::kNotMine;
    served.inc();
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      co_await connection.send_text(request, http::status::method_not_allowed,
                                    "method not allowed\n");
      co_return net::HttpOutcome::kResponded;
    }
    auto relative = relative_path_from_url(path.substr(settings.prefix.size()));
    if (!relative) {
      refused.inc();
      logger().info("[{}] refused {}: {}", connection.peer(), path, relative.error().message);
      const std::string message = "bad path: " + relative.error().message + "\n";
      co_await connection.send_text(request, http::status::bad_request, message);
      co_return net::HttpOutcome::kResponded;
    }
    auto opened = open_beneath(root_fd->fd, relative.value());
    if (auto* error = std::get_if<OpenError>(&opened)) {
      if (!error->not_found) {
        refused.inc();
        logger().info("[{}] refused {}: {}", connection.peer(), path, error->message);
      }
      co_await connection.send_text(
          request, error->not_found ? http::status::not_found : http::status::forbidden,
          error->not_found ? "not found\n" : "forbidden\n");
      co_return net::HttpOutcome::kResponded;
    }
    const OpenedFile file = std::get<OpenedFile>(opened);
    Fd file_fd(file.fd);

    // RFC 9110 8.8: validators. The ETag changes whenever the file does.
    const std::string etag = fmt::format("\"{:x}-{:x}-{:x}\"", file.inode, file.size, file.mtime_s);
    const std::string last_modified = net::format_http_date(file.mtime_s);
    const auto if_none = request[http::field::if_none_match];
    bool not_modified = !if_none.empty() && if_none_match(if_none, etag);
    if (if_none.empty()) {
      // 13.1.3: If-Modified-Since only without If-None-Match.
      if (auto since = net::parse_http_date(request[http::field::if_modified_since])) {
        not_modified = file.mtime_s <= *since;
      }
    }
    auto header =
        connection.header(request, not_modified ? http::status::not_modified : http::status::ok,
                          not_modified ? std::string_view{} : mime_type_for(relative.value()));
    header.set(http::field::etag, etag);
    header.set(http::field::last_modified, last_modified);
    header.set(http::field::cache_control, settings.cache_control);
    header.set(http::field::accept_ranges, "bytes");
    if (not_modified) {
      co_await connection.send(request, std::move(header), SharedBytes{});
      co_return net::HttpOutcome::kResponded;
    }

    // MP4 time seek: a self-contained MP4 made of a rebuilt head and
    // ranges of the file (Range headers are not applied to clips).
    const size_t question = target.find('?');
    if (question != std::string_view::npos && is_mp4_family(relative.value())) {
      auto seek = parse_seek(target.substr(question + 1));
      if (!seek) {
        const std::string message = "bad seek: " + seek.error().message + "\n";
        co_await connection.send_text(request, http::status::bad_request, message);
        co_return net::HttpOutcome::kResponded;
      }
      if (*seek) {
        const FileIdentity id{file.device, file.inode, file.size, file.mtime_s};
        auto index = index_cache->get(file_fd.fd, id);
        if (!index && index.error().message == "fragmented MP4") {
          // Fragmented MP4 is served whole, by byte ranges.
        } else if (!index) {
          logger().warn("[{}] {}: cannot seek: {}", connection.peer(), path, index.error().message);
          const std::string message = "cannot seek in this file: " + index.error().message + "\n";
          co_await connection.send_text(request, http::status::unprocessable_entity, message);
          co_return net::HttpOutcome::kResponded;
        } else {
          auto clip = media::build_mp4_clip(*index.value(), **seek);
          if (!clip) {
            const std::string message = "bad seek: " + clip.error().message + "\n";
            co_await connection.send_text(request, http::status::range_not_satisfiable, message);
            co_return net::HttpOutcome::kResponded;
          }
          header.set(http::field::etag,
                     fmt::format("\"{:x}-{:x}-{:x}-{}\"", file.inode, file.size, file.mtime_s,
                                 std::hash<std::string_view>()(target.substr(question))));
          header.erase(http::field::accept_ranges);
          co_await connection.send_header(request, std::move(header), clip->total_size);
          if (request.method() == http::verb::head) co_return net::HttpOutcome::kResponded;
          const SharedBytes head = clip->head;
          co_await boost::asio::async_write(connection.stream(),
                                            boost::asio::buffer(head.data(), head.size()),
                                            boost::asio::use_awaitable);
          for (const media::FileRange& piece : clip->ranges) {
            Status sent = co_await send_file_range(connection.socket(), file_fd.fd, piece.offset,
                                                   piece.length, settings.stall_timeout_ms);
            if (!sent) {
              logger().info("[{}] {}: {}", connection.peer(), path, sent.error().message);
              co_return net::HttpOutcome::kClose;
            }
          }
          co_return net::HttpOutcome::kResponded;
        }
      }
    }

    ByteRange range{0, file.size == 0 ? 0 : file.size - 1};
    uint64_t length = file.size;
    const auto range_header = request[http::field::range];
    if (!range_header.empty() &&
        if_range_allows(request[http::field::if_range], etag, last_modified)) {
      switch (evaluate_range(range_header, file.size, range)) {
        case RangeResult::kSatisfiable:
          header.result(http::status::partial_content);
          header.set(http::field::content_range,
                     fmt::format("bytes {}-{}/{}", range.first, range.last, file.size));
          length = range.length();
          break;
        case RangeResult::kUnsatisfiable: {
          header.result(http::status::range_not_satisfiable);
          header.set(http::field::content_range, fmt::format("bytes */{}", file.size));
          co_await connection.send(request, std::move(header), SharedBytes{});
          co_return net::HttpOutcome::kResponded;
        }
        case RangeResult::kNone:
          break;
      }
    }
    co_await connection.send_header(request, std::move(header), length);
    if (request.method() == http::verb::head || length == 0) {
      co_return net::HttpOutcome::kResponded;
    }
    Status sent = co_await send_file_range(connection.socket(), file_fd.fd, range.first, length,
                                           settings.stall_timeout_ms);
    if (!sent) {
      // The response is cut short: the connection cannot be reused.
      logger().info("[{}] {}: {}", connection.peer(), path, sent.error().message);
      co_return net::HttpOutcome::kClose;
    }
    co_return net::HttpOutcome::kResponded;
  });
}

}  // namespace cascade::vod
