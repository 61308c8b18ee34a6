#include "vod/vod_route.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "core/log.h"
#include "core/metrics.h"
#include "net/http_date.h"
#include "vod/directory_listing.h"
#include "vod/http_range.h"
#include "vod/index_warmup.h"
#include "vod/mime_type.h"
#include "vod/mp4_index_cache.h"
#include "vod/vod_byte_ranges.h"
#include "vod/vod_directory.h"
#include "vod/vod_file_request.h"
#include "vod/vod_flv_seek.h"
#include "vod/vod_hls.h"
#include "vod/vod_hls_path.h"
#include "vod/vod_mp4_seek.h"
#include "vod/vod_path.h"
#include "vod/vod_throttle.h"

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


// What the responder of this request will read of the file's indexes.
IndexNeeds index_needs(const VodSettings& settings, std::string_view relative_path,
                       std::string_view query, bool hls) {
  IndexNeeds needs;
  const bool paced = settings.throttle || !query.empty();  // ?rate= may pace too
  if (is_mp4_family(relative_path)) {
    needs.mp4_index = hls || paced;  // a seek (a query) counts as paced
    needs.hls_plan = hls;
    needs.hls_segment_target_ms = settings.hls_segment_target_ms;
  } else if (mime_type_for(relative_path) == "video/x-flv") {
    needs.flv_index = !query.empty() || paced;
  }
  return needs;
}

}  // namespace

Result<net::HttpRoute> make_vod_route(const VodSettings& settings,
                                      std::shared_ptr<VodCaches> caches,
                                      std::shared_ptr<net::IoPool> io) {
  const int root = ::open(settings.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return make_error("cannot open '{}': {}", settings.root, std::strerror(errno));
  }
  auto root_fd = std::make_shared<Fd>(root);
  // Views of the shared caches (one budget for every root).
  auto index_cache = std::shared_ptr<Mp4IndexCache>(caches, &caches->mp4_indexes);
  auto flv_index_cache = std::shared_ptr<FlvIndexCache>(caches, &caches->flv_indexes);
  return net::HttpRoute([root_fd, settings, caches, io, index_cache, flv_index_cache](
                            net::HttpConnection& connection,
                            net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    static Counter& served = Metrics::global().counter("cascade_vod_requests_total");
    static Counter& refused = Metrics::global().counter("cascade_vod_refused_total");
    const std::string_view target = request.target();
    const size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    if (!path.starts_with(settings.prefix)) co_return net::HttpOutcome::kNotMine;
    served.inc();
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      co_await connection.send_text(request, http::status::method_not_allowed,
                                    "method not allowed\n");
      co_return net::HttpOutcome::kResponded;
    }
    if (settings.list_directories && path.ends_with('/')) {
      co_return co_await answer_directory_listing(connection, request, root_fd->fd, settings, path);
    }
    auto rate_override = requested_rate_override(settings, path, query);
    if (!rate_override) {
      refused.inc();
      logger().info("[{}] refused {}: {}", connection.peer(), path, rate_override.error().message);
      const std::string message = "rate override refused: " + rate_override.error().message + "\n";
      co_await connection.send_text(request, http::status::forbidden, message);
      co_return net::HttpOutcome::kResponded;
    }
    // HLS from an MP4 (vod_hls.h): {file}/index.m3u8 and the rest name a
    // resource of {file}; the suffix is split off first, then {file} is
    // resolved and opened like any other file.
    std::string_view file_url = path.substr(settings.prefix.size());
    const std::optional<VodHlsPath> hls = split_vod_hls_path(file_url);
    if (hls) file_url = hls->file;
    auto relative = relative_path_from_url(file_url);
    if (!relative) {
      refused.inc();
      logger().info("[{}] refused {}: {}", connection.peer(), path, relative.error().message);
      const std::string message = "bad path: " + relative.error().message + "\n";
      co_await connection.send_text(request, http::status::bad_request, message);
      co_return net::HttpOutcome::kResponded;
    }
    auto opened = open_beneath(root_fd->fd, relative.value());
    if (auto* error = std::get_if<OpenError>(&opened)) {
      if (error->not_found && settings.list_directories &&
          is_directory_beneath(root_fd->fd, relative.value())) {
        co_return co_await redirect_to_directory(connection, request, path);
      }
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
    const std::string etag =
        fmt::format("\"{:x}-{:x}-{:x}\"", file.inode, file.size, file.mtime_ns);
    const std::string last_modified = net::format_http_date(file.mtime_s);
    if (hls) {
      const IndexNeeds needs = index_needs(settings, relative.value(), query, true);
      co_await warm_indexes(*io, *caches, file, needs);
      VodFileRequest hls_request{connection,       request, settings, path,          query,
                                 relative.value(), file,    etag,     last_modified, {}};
      co_return co_await answer_vod_hls(hls_request, hls->target, *caches, *io);
    }
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

    const IndexNeeds needs = index_needs(settings, relative.value(), query, false);
    co_await warm_indexes(*io, *caches, file, needs);
    VodFileRequest file_request{connection,    request,          settings, path,
                                query,         relative.value(), file,     etag,
                                last_modified, std::move(header)};
    std::optional<TokenBucket> pacer =
        make_response_pacer(file_request, rate_override.value(), *caches);
    if (pacer) file_request.pacer = &*pacer;
    if (!query.empty() && is_mp4_family(relative.value())) {
      std::optional<net::HttpOutcome> seek = co_await answer_mp4_seek(file_request, *index_cache);
      if (seek) co_return *seek;
    }
    if (!query.empty() && mime_type_for(relative.value()) == "video/x-flv") {
      std::optional<net::HttpOutcome> seek =
          co_await answer_flv_seek(file_request, *flv_index_cache);
      if (seek) co_return *seek;
    }
    co_return co_await answer_whole_or_range(file_request);
  });
}

}  // namespace cascade::vod
