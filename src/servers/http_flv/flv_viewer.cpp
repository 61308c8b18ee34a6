#include "servers/http_flv/flv_viewer.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "access/http_refusal.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/percent_encoding.h"
#include "live/stream_key.h"
#include "media/flv.h"
#include "net/socket_options.h"

// GCC 12 flags the route's coroutine frame, allocated and freed by Asio's
// awaitable_frame_base operator new/delete pair, as -Wmismatched-new-delete:
// a false positive of its coroutine lowering (clang and the same code in
// smaller frames are clean).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace cascade::servers {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
namespace http = net::http;

namespace {

spdlog::logger& logger() {
  return log::get("http-flv");
}

struct FlvTarget {
  std::string app, stream, key;
};

// Parses "/{app}/{stream}.flv" (percent-decoded) into a stream key.
std::optional<FlvTarget> key_from_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() < 6 || path.front() != '/' || !path.ends_with(".flv")) return std::nullopt;
  path = path.substr(1, path.size() - 5);
  auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string app, stream;
  if (!percent_decode(path.substr(0, slash), app) ||
      !percent_decode(path.substr(slash + 1), stream)) {
    return std::nullopt;
  }
  auto key = live::make_stream_key(app, stream);
  if (!key) return std::nullopt;
  return FlvTarget{std::move(app), std::move(stream), std::move(key.value())};
}

class FlvViewer final : public live::ViewerSink, public std::enable_shared_from_this<FlvViewer> {
 public:
  FlvViewer(net::HttpConnection& connection, bool chunked, std::string head)
      : connection_(connection), chunked_(chunked), preamble_(std::move(head)) {}

  // False when the stream was gone before the viewer could join.
  awaitable<bool> run(live::Hub& hub, const std::string& key, live::FormatId format) {
    viewer_ = hub.subscribe(key, format, connection_.worker(), *this);
    if (!viewer_) co_return false;
    context_ = connection_.peer() + " " + key;
    net::limit_unsent_bytes(connection_.socket());  // so the hub sees this viewer's lag
    connection_.release_read_buffer();
    connection_.set_session_kind(SessionKind::kHttpFlvViewer);
    logger().info("[{}] play started ({})", context_, chunked_ ? "chunked" : "until close");
    viewer_->start();
    // Nothing more is expected from the client; a read ends when it leaves.
    uint8_t scratch[64];
    while (!closed_) {
      boost::system::error_code ec;
      co_await connection_.stream().async_read_some(boost::asio::buffer(scratch),
                                                    boost::asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (!reason_) reason_ = ec == boost::asio::error::eof ? "client closed" : ec.message();
        break;
      }
    }
    close();
    // A write in progress still uses the socket, which the HttpConnection owns
    // and destroys once this route returns: wait for it (the socket is closed,
    // so it ends at once).
    while (writing_) {
      boost::asio::steady_timer done(connection_.socket().get_executor(),
                                     boost::asio::steady_timer::time_point::max());
      write_done_ = &done;
      boost::system::error_code ec;
      co_await done.async_wait(boost::asio::redirect_error(use_awaitable, ec));
      write_done_ = nullptr;
    }
    logger().info("[{}] viewer closed: {} ({} bytes sent, {} skips)", context_,
                  reason_.value_or("closed"), viewer_->bytes_sent(), viewer_->skips());
    viewer_.reset();  // no write reads its buffers any more
    co_return true;
  }

  void on_start(const live::StreamInfo& info) override {
    // FLV spec E.2: the file header's flags say which tracks follow.
    std::vector<uint8_t> header;
    flv::write_file_header(info.has_audio, info.has_video, header);
    body_prefix_.assign(header.begin(), header.end());
  }

  void write(std::span<const boost::asio::const_buffer> buffers) override {
    gather_.clear();
    size_t body_bytes = body_prefix_.size();
    for (const auto& b : buffers) body_bytes += b.size();
    if (!preamble_.empty()) gather_.push_back(boost::asio::buffer(preamble_));
    if (chunked_) {
      // RFC 9112 7.1: chunk-size in hex, CRLF, data, CRLF.
      chunk_line_ = fmt::format("{:x}\r\n", body_bytes);
      gather_.push_back(boost::asio::buffer(chunk_line_));
    }
    if (!body_prefix_.empty()) gather_.push_back(boost::asio::buffer(body_prefix_));
    gather_.insert(gather_.end(), buffers.begin(), buffers.end());
    if (chunked_) gather_.push_back(boost::asio::buffer("\r\n", 2));
    writing_ = true;
    boost::asio::async_write(connection_.stream(), gather_,
                             [self = shared_from_this()](boost::system::error_code ec, size_t) {
                               self->write_finished();
                               std::string().swap(self->preamble_);
                               std::vector<uint8_t>().swap(self->body_prefix_);
                               if (ec && !self->reason_)
                                 self->reason_ = "write failed: " + ec.message();
                               if (ec) self->close();
                               if (self->viewer_) self->viewer_->on_write_complete(!ec);
                             });
  }

  void on_end() override {
    reason_ = "stream ended";
    gather_.clear();
    if (!preamble_.empty()) gather_.push_back(boost::asio::buffer(preamble_));
    if (chunked_) gather_.push_back(boost::asio::buffer("0\r\n\r\n", 5));
    writing_ = true;
    boost::asio::async_write(connection_.stream(), gather_,
                             [self = shared_from_this()](boost::system::error_code, size_t) {
                               self->write_finished();
                               self->close();
                             });
  }

  void on_closed(std::string_view reason) override {
    static Counter& dropped = Metrics::global().counter("cascade_http_flv_viewers_dropped_total");
    dropped.inc();
    reason_ = std::string(reason);
    close();
  }

 private:
  void write_finished() {
    writing_ = false;
    if (write_done_) write_done_->cancel();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    connection_.stream().close();
  }

  net::HttpConnection& connection_;
  bool chunked_;
  std::string preamble_;              // the HTTP response head, sent with the first write
  std::vector<uint8_t> body_prefix_;  // the FLV file header
  std::string chunk_line_;
  std::vector<boost::asio::const_buffer> gather_;
  std::unique_ptr<live::Viewer> viewer_;
  std::string context_;
  std::optional<std::string> reason_;
  bool closed_ = false;
  bool writing_ = false;                             // an async_write is in progress
  boost::asio::steady_timer* write_done_ = nullptr;  // run() waits for it to end
};

}  // namespace

net::HttpRoute make_http_flv_route(live::Hub& hub, live::FormatId flv_format,
                                   access::AccessControl& access) {
  return [&hub, flv_format, &access](net::HttpConnection& connection,
                                     net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    auto target = key_from_target(request.target());
    if (!target) co_return net::HttpOutcome::kNotMine;
    const std::string* key = &target->key;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      auto res = connection.response(request, http::status::method_not_allowed, "text/plain",
                                     "method not allowed\n");
      res.set(http::field::allow, "GET, HEAD");
      co_await connection.send(std::move(res));
      co_return net::HttpOutcome::kResponded;
    }
    std::optional<access::AccessRequest> done;
    const bool check_play = !access.open(access::AccessAction::kPlay, target->app);
    if (check_play || !access.open(access::AccessAction::kDone, target->app)) {
      access::AccessRequest checked =
          access::http_play_request(connection, access::AccessProtocol::kHttpFlv, target->app,
                                    target->stream, request.target());
      checked.session_id = access::next_session_id();
      done = checked;
      done->action = access::AccessAction::kDone;
    }
    if (check_play) {
      access::AccessRequest checked = *done;
      checked.action = access::AccessAction::kPlay;
      access::AccessResult result = co_await access.check(std::move(checked));
      if (!result.decision.allowed()) {
        static Counter& refused = Metrics::global().counter("cascade_http_flv_refused_total");
        refused.inc();
        logger().warn("[{} {}] play refused: {}", connection.peer(), *key, result.decision.reason);
        co_await access::send_http_refusal(connection, request, result.decision);
        co_return net::HttpOutcome::kResponded;
      }
    }
    if (!hub.is_live(*key)) {
      auto res = connection.response(request, http::status::not_found, "text/plain",
                                     fmt::format("stream {} is not live\n", *key));
      res.set(http::field::cache_control, "no-cache");
      co_await connection.send(std::move(res));
      co_return net::HttpOutcome::kResponded;
    }
    const bool chunked = request.version() >= 11;
    std::string head = fmt::format(
        "HTTP/1.{} 200 OK\r\nServer: cascade\r\nContent-Type: video/x-flv\r\n"
        "Cache-Control: no-cache, no-store\r\n",
        request.version() >= 11 ? 1 : 0);
    if (!connection.limits().cors_origin.empty()) {
      head += fmt::format("Access-Control-Allow-Origin: {}\r\n", connection.limits().cors_origin);
    }
    if (request.method() == http::verb::head) {
      head += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Connection: close\r\n\r\n";
      co_await boost::asio::async_write(connection.stream(), boost::asio::buffer(head),
                                        use_awaitable);
      co_return chunked&& request.keep_alive() ? net::HttpOutcome::kResponded
                                               : net::HttpOutcome::kClose;
    }
    head += chunked ? "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    : "Connection: close\r\n\r\n";
    connection.stream().expires_never();
    connection.bound_send_buffer();
    auto viewer = std::make_shared<FlvViewer>(connection, chunked, std::move(head));
    const bool played = co_await viewer->run(hub, *key, flv_format);
    if (played && done) access.notify(connection.socket().get_executor(), std::move(*done));
    co_return net::HttpOutcome::kClose;
  };
}

}  // namespace cascade::servers
