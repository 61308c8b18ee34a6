#include "net/http_server.h"

#include <sys/socket.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/metrics.h"
#include "net/endpoint.h"
#include "net/send_file.h"

namespace cascade::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

HttpConnection::HttpConnection(boost::asio::ip::tcp::socket socket, size_t worker,
                               const HttpLimits& limits, ConnectionTicket ticket, TlsContextPtr tls)
    : stream_(std::move(socket), std::move(tls)),
      worker_(worker),
      limits_(limits),
      read_buffer_(limits.max_header_bytes + limits.max_body_bytes),
      ticket_(std::move(ticket)) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown" : to_string(remote);
}

void HttpConnection::bound_send_buffer() {
  if (limits_.stream_send_buffer_bytes == 0) return;
  boost::system::error_code ignored;
  socket().set_option(boost::asio::socket_base::send_buffer_size(
                          static_cast<int>(limits_.stream_send_buffer_bytes)),
                      ignored);
}

HttpResponse HttpConnection::response(const HttpRequest& request, http::status status,
                                      std::string_view content_type, std::string body) const {
  HttpResponse res{header(request, status, content_type)};
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  if (request.method() == http::verb::head) {
    // RFC 9110 9.3.2: a HEAD response has the GET's header fields but no
    // content (on a kept-alive connection, body bytes would garble the next
    // response).
    const auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

HttpResponseHeader HttpConnection::header(const HttpRequest& request, http::status status,
                                          std::string_view content_type) const {
  HttpResponseHeader header;
  header.version(request.version());
  header.result(status);
  header.set(http::field::server, "cascade");
  if (!content_type.empty()) header.set(http::field::content_type, content_type);
  if (!limits_.cors_origin.empty()) {
    header.set(http::field::access_control_allow_origin, limits_.cors_origin);
  }
  if (!request.keep_alive()) header.set(http::field::connection, "close");
  return header;
}

namespace {

std::string serialize_header(const HttpRequest& request, const HttpResponseHeader& header) {
  std::string head;
  head.reserve(256);
  head.append(request.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  head.append(std::to_string(header.result_int()));
  head.push_back(' ');
  head.append(header.reason());
  head.append("\r\n");
  for (const auto& field : header) {
    head.append(field.name_string());
    head.append(": ");
    head.append(field.value());
    head.append("\r\n");
  }
  head.append("\r\n");
  return head;
}

}  // namespace

awaitable<void> HttpConnection::send(const HttpRequest& request, HttpResponseHeader header,
                                     SharedBytes body) {
  // RFC 9110 8.6: a 304 carries no Content-Length of its own.
  if (header.result() != http::status::not_modified) {
    header.set(http::field::content_length, std::to_string(body.size()));
  }
  const std::string head = serialize_header(request, header);
  std::array<boost::asio::const_buffer, 2> buffers = {
      boost::asio::buffer(head), boost::asio::buffer(body.data(), body.size())};
  const bool with_body = request.method() != http::verb::head && !body.empty();
  stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
  if (with_body) {
    co_await boost::asio::async_write(stream_, buffers, use_awaitable);
  } else {
    co_await boost::asio::async_write(stream_, boost::asio::buffer(head), use_awaitable);
  }
}

awaitable<void> HttpConnection::send_prepared(SharedBytes head, SharedBytes body) {
  std::array<boost::asio::const_buffer, 2> buffers = {
      boost::asio::buffer(head.data(), head.size()), boost::asio::buffer(body.data(), body.size())};
  stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
  co_await boost::asio::async_write(stream_, buffers, use_awaitable);
}

awaitable<Status> HttpConnection::send_prepared(SharedBytes head, FileSlice body) {
  if (stream_.is_tls()) {
    // No MSG_MORE trick through TLS: the head is its own record.
    stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
    co_await boost::asio::async_write(stream_, boost::asio::buffer(head.data(), head.size()),
                                      use_awaitable);
    co_return co_await send_body(body);
  }
  // The head goes first with MSG_MORE, so the kernel joins it to the
  // body's first bytes instead of sending a short packet (TCP_NODELAY is on).
  const ssize_t sent = ::send(socket().native_handle(), head.data(), head.size(),
                              MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
  const size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    co_return make_error("send: {}", std::strerror(errno));
  }
  if (done < head.size()) {
    stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
    co_await boost::asio::async_write(
        stream_, boost::asio::buffer(head.data() + done, head.size() - done), use_awaitable);
  }
  co_return co_await send_body(body);
}

awaitable<Status> HttpConnection::send_body(const FileSlice& body) {
  co_return co_await send_file(body.fd(), body.offset(), body.size(), limits_.request_timeout_ms);
}

awaitable<Status> HttpConnection::send_file(int fd, uint64_t offset, uint64_t length,
                                            uint32_t stall_timeout_ms) {
  if (stream_.is_tls()) {
    co_return co_await send_file_range_copy(stream_, fd, offset, length, stall_timeout_ms);
  }
  co_return co_await send_file_range(socket(), fd, offset, length, stall_timeout_ms);
}

awaitable<void> HttpConnection::send_header(const HttpRequest& request, HttpResponseHeader header,
                                            uint64_t content_length) {
  header.set(http::field::content_length, std::to_string(content_length));
  const std::string head = serialize_header(request, header);
  stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
  co_await boost::asio::async_write(stream_, boost::asio::buffer(head), use_awaitable);
}

awaitable<void> HttpConnection::send_text(const HttpRequest& request, http::status status,
                                          std::string_view text, std::string_view cache_control) {
  auto res = response(request, status, "text/plain", std::string(text));
  if (!cache_control.empty()) res.set(http::field::cache_control, cache_control);
  co_await send(std::move(res));
}

awaitable<void> HttpConnection::send(HttpResponse response) {
  stream_.expires_after(std::chrono::milliseconds(limits_.request_timeout_ms));
  co_await http::async_write(stream_, response, use_awaitable);
}

HttpServer::HttpServer(std::vector<HttpRoute> routes, HttpLimits limits)
    : site_(std::make_shared<const Site>(Site{std::move(routes), std::move(limits)})) {}

void HttpServer::replace(std::vector<HttpRoute> routes, HttpLimits limits) {
  auto site = std::make_shared<const Site>(Site{std::move(routes), std::move(limits)});
  std::lock_guard lock(mutex_);
  site_.swap(site);  // the old site is released by its last connection
}

void HttpServer::begin_drain() {
  draining_.store(true, std::memory_order_relaxed);
  std::vector<std::weak_ptr<HttpConnection>> open;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [raw, weak] : connections_) open.push_back(weak);
  }
  for (const auto& weak : open) {
    auto connection = weak.lock();
    if (!connection) continue;
    // On the connection's worker: a connection waiting between requests is
    // closed; any other sees draining() before its next read.
    boost::asio::post(connection->socket().get_executor(), [weak] {
      auto c = weak.lock();
      if (!c || !c->idle_) return;
      c->closed_by_drain_ = true;
      c->stream().next_layer().cancel();  // the TCP stream under TLS too
    });
  }
}

void HttpServer::forget(HttpConnection* connection) {
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
}

void HttpServer::serve(boost::asio::ip::tcp::socket socket, size_t worker, ConnectionTicket ticket,
                       TlsContextPtr tls) {
  // Responses are written whole (one gathered write or sendfile), so Nagle
  // only delays their last partial segment by a delayed ACK (~40 ms): off.
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  auto executor = socket.get_executor();
  std::shared_ptr<const Site> site;
  {
    std::lock_guard lock(mutex_);
    site = site_;
  }
  // The connection keeps this site (routes, limits) for its life.
  auto connection = std::make_shared<HttpConnection>(std::move(socket), worker, site->limits,
                                                     std::move(ticket), std::move(tls));
  {
    std::lock_guard lock(mutex_);
    connections_.emplace(connection.get(), connection);
  }
  boost::asio::co_spawn(
      executor,
      [this, connection, site]() -> awaitable<void> {
        if (co_await handshake(*connection)) co_await run(*connection, *site);
      },
      [this, connection, site](std::exception_ptr error) {
        forget(connection.get());
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const boost::system::system_error& e) {
          log::get("http").debug("[{}] closed: {}", connection->peer(), e.code().message());
        } catch (const std::exception& e) {
          log::get("http").warn("[{}] closed: {}", connection->peer(), e.what());
        }
      });
}

awaitable<bool> HttpServer::handshake(HttpConnection& connection) {
  if (!connection.is_tls()) co_return true;
  static Counter& failed =
      Metrics::global().counter("cascade_tls_handshake_failures_total{listener=\"https\"}");
  connection.stream().expires_after(
      std::chrono::milliseconds(connection.limits().request_timeout_ms));
  boost::system::error_code ec;
  co_await connection.stream().async_handshake(boost::asio::redirect_error(use_awaitable, ec));
  if (!ec) co_return true;
  failed.inc();
  log::get("http").info("[{}] TLS handshake failed: {}", connection.peer(),
                        ec == boost::beast::error::timeout ? "timeout" : ec.message());
  connection.stream().close();
  co_return false;
}

awaitable<void> HttpServer::run(HttpConnection& connection, const Site& site) {
  const HttpLimits& limits = site.limits;
  static Counter& bad_requests = Metrics::global().counter("cascade_http_bad_requests_total");
  static Counter& requests = Metrics::global().counter("cascade_http_requests_total");
  boost::beast::flat_buffer& buffer = connection.read_buffer();
  bool first = true;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    boost::system::error_code ec;
    if (!first && buffer.size() == 0) {
      // Kept alive: idle_timeout_ms for the next request's first byte...
      // While it waits, a drain may close the connection (begin_drain checks
      // idle_ on this worker, so a request once begun is never cut).
      if (draining()) break;
      connection.idle_ = true;
      connection.stream().expires_after(std::chrono::milliseconds(limits.idle_timeout_ms));
      const size_t n = co_await connection.stream().async_read_some(
          buffer.prepare(std::min<size_t>(4096, buffer.max_size())),
          boost::asio::redirect_error(use_awaitable, ec));
      connection.idle_ = false;
      buffer.commit(n);
      // Closed, reset, idle too long or drained: nothing to answer.
      if (ec || connection.closed_by_drain_) break;
    }
    // ...then request_timeout_ms for the whole request, head and body: one
    // deadline that trickled bytes do not push back (slowloris).
    connection.stream().expires_after(std::chrono::milliseconds(limits.request_timeout_ms));
    first = false;
    co_await http::async_read(connection.stream(), buffer, parser,
                              boost::asio::redirect_error(use_awaitable, ec));
    if (ec == boost::beast::error::timeout) {
      // Counted only when a request had begun: a connection that never
      // sent a byte is just closed.
      static Counter& timeouts = Metrics::global().counter("cascade_http_request_timeouts_total");
      if (parser.got_some()) {
        timeouts.inc();
        log::get("http").debug("[{}] request timeout: incomplete after {} ms", connection.peer(),
                               limits.request_timeout_ms);
      }
      break;
    }
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset ||
        ec == boost::asio::ssl::error::stream_truncated) {
      break;
    }
    if (ec.category() == boost::asio::error::get_ssl_category()) {
      // Bad TLS records after the handshake: no HTTP answer can get through.
      log::get("http").info("[{}] TLS error: {}", connection.peer(), ec.message());
      break;
    }
    if (ec) {
      bad_requests.inc();
      log::get("http").info("[{}] bad request: {}", connection.peer(), ec.message());
      HttpRequest blank;
      blank.version(11);
      blank.keep_alive(false);
      auto res = connection.response(blank, http::status::bad_request, "text/plain",
                                     "bad request: " + ec.message() + "\n");
      co_await connection.send(std::move(res));
      break;
    }
    requests.inc();
    HttpRequest request = parser.release();
    // Draining: this is the connection's last response, and says so.
    if (draining()) request.keep_alive(false);
    // Large buffers (a request with a body) are not kept between requests;
    // small ones are, unless a long-lived route releases it
    // (release_read_buffer()): freeing and reallocating per request costs
    // more than it saves.
    if (buffer.size() == 0 && buffer.capacity() > 4096) buffer.shrink_to_fit();
    HttpOutcome outcome = HttpOutcome::kNotMine;
    for (const HttpRoute& route : site.routes) {
      outcome = co_await route(connection, request);
      if (outcome != HttpOutcome::kNotMine) break;
    }
    if (outcome == HttpOutcome::kClose) break;
    if (outcome == HttpOutcome::kNotMine) {
      auto res = connection.response(request, http::status::not_found, "text/plain", "not found\n");
      co_await connection.send(std::move(res));
    }
    if (!request.keep_alive()) break;
  }
  boost::system::error_code ignored;
  connection.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  connection.socket().close(ignored);
}

}  // namespace cascade::net
