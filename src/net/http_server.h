// HTTP/1.1 transport on Boost.Beast: reads requests (bounded header and body
// sizes, request and idle timeouts), hands each to the first route that takes
// it, writes the response, keeps the connection alive when both sides allow.
// A route may instead take the connection over (a live stream) and finish it.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/memfd_store.h"
#include "core/result.h"
#include "core/session_counts.h"
#include "core/shared_bytes.h"
#include "net/connection_gate.h"
#include "net/transport.h"

namespace cascade::net {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
using HttpResponseHeader = http::response_header<>;

struct HttpLimits {
  uint32_t max_header_bytes = 8 * 1024;
  uint32_t max_body_bytes = 64 * 1024;
  // Whole request (head and body), from its first byte (on a new
  // connection: from accept), however slowly it trickles in (slowloris).
  uint32_t request_timeout_ms = 10'000;
  uint32_t idle_timeout_ms = 30'000;  // between keep-alive requests
  std::string cors_origin = "*";      // empty: no CORS headers
  // SO_SNDBUF for a connection a route turns into a long-lived live stream
  // (HTTP-FLV): bounds kernel memory under many slow viewers. 0: the
  // kernel's autotuning, which every other HTTP response keeps (as nginx's
  // do): a small fixed buffer costs a wake-up per buffer-full on a large
  // file body.
  uint32_t stream_send_buffer_bytes = 0;
};

class HttpConnection {
 public:
  // `ticket`: the connection's slot in the ConnectionGate, held for its life.
  // `tls`: serve HTTPS with that context (the handshake is the server's,
  // before the first request); null: plain HTTP.
  HttpConnection(boost::asio::ip::tcp::socket socket, size_t worker, const HttpLimits& limits,
                 ConnectionTicket ticket = {}, TlsContextPtr tls = nullptr);

  // Every body byte goes through stream() (plain or TLS); it has Beast's
  // expires_after()/expires_never(). socket() is for options and closing
  // only: bytes written to it directly would bypass TLS.
  HttpTransport& stream() { return stream_; }
  boost::asio::ip::tcp::socket& socket() { return stream_.socket(); }
  bool is_tls() const { return stream_.is_tls(); }
  size_t worker() const { return worker_; }
  const std::string& peer() const { return peer_; }
  const HttpLimits& limits() const { return limits_; }
  boost::beast::flat_buffer& read_buffer() { return read_buffer_; }
  // A route that keeps the connection long (a live stream, a held request)
  // frees the read buffer: with thousands of such connections it adds up.
  // Only when nothing unread is in it (pipelined bytes stay).
  void release_read_buffer() {
    if (read_buffer_.size() == 0) read_buffer_.shrink_to_fit();
  }
  // Applies limits().stream_send_buffer_bytes (a route that streams live).
  void bound_send_buffer();
  // What this connection counts as in SessionCounts (a route that turns it
  // into a live stream says so).
  void set_session_kind(SessionKind kind) { session_.set_kind(kind); }

  // A response with the server's common headers (Server, Date-free, CORS)
  // and keep-alive matching the request.
  HttpResponse response(const HttpRequest& request, http::status status,
                        std::string_view content_type, std::string body) const;
  boost::asio::awaitable<void> send(HttpResponse response);
  // A short text/plain answer (errors, 404s), with Cache-Control if given.
  // Pass string literals or named strings: GCC 12 destroys some temporaries
  // in a co_await full-expression twice.
  boost::asio::awaitable<void> send_text(const HttpRequest& request, http::status status,
                                         std::string_view text,
                                         std::string_view cache_control = {});

  // The same common headers, for a response whose body is shared bytes.
  HttpResponseHeader header(const HttpRequest& request, http::status status,
                            std::string_view content_type) const;
  // Sends `header` (Content-Length set here) and `body` in one gathered
  // write, without copying the body; for HEAD, the header only.
  boost::asio::awaitable<void> send(const HttpRequest& request, HttpResponseHeader header,
                                    SharedBytes body);
  // Sends a complete prepared response head (status line to the blank line)
  // and its body in one gathered write. For HTTP/1.1 keep-alive GETs.
  boost::asio::awaitable<void> send_prepared(SharedBytes head, SharedBytes body);
  // The same with the body in a memory file (core/memfd_store.h), sent by
  // sendfile. Errors: the peer stalled or went away mid-body (the
  // connection cannot be reused).
  boost::asio::awaitable<Status> send_prepared(SharedBytes head, FileSlice body);
  // Sends a body of `content_length` bytes from a file slice after
  // send_header(); nothing for HEAD. Errors as above.
  boost::asio::awaitable<Status> send_body(const FileSlice& body);
  // Sends a byte range of an open file as (part of) a body: sendfile on
  // plain HTTP, a bounded read-and-write through TLS on HTTPS. A peer that
  // takes nothing for `stall_timeout_ms` ends it. Errors as above.
  boost::asio::awaitable<Status> send_file(int fd, uint64_t offset, uint64_t length,
                                           uint32_t stall_timeout_ms);
  // Sends only `header`, with Content-Length `content_length`; the caller
  // writes the body itself (a file by sendfile). Not for HEAD bodies: the
  // caller sends none.
  boost::asio::awaitable<void> send_header(const HttpRequest& request, HttpResponseHeader header,
                                           uint64_t content_length);

 private:
  HttpTransport stream_;
  size_t worker_;
  const HttpLimits& limits_;
  std::string peer_;
  boost::beast::flat_buffer read_buffer_;
  ConnectionTicket ticket_;
  SessionCount session_{SessionKind::kHttp};
  // Drain (HttpServer::begin_drain): true while waiting for a keep-alive
  // request with nothing read yet, the only time a drain may close it.
  // Touched on the connection's worker only.
  bool idle_ = false;
  bool closed_by_drain_ = false;
  friend class HttpServer;
};

enum class HttpOutcome {
  kNotMine,    // try the next route
  kResponded,  // a response was sent; keep-alive may continue
  kClose,      // the route finished with the connection
};
using HttpRoute = std::function<boost::asio::awaitable<HttpOutcome>(HttpConnection&, HttpRequest&)>;

// Thread safety: serve() runs on the accepting worker; replace(),
// begin_drain() and draining() on any thread.
class HttpServer {
 public:
  HttpServer(std::vector<HttpRoute> routes, HttpLimits limits);
  // Serves one accepted connection on its worker until it closes; the
  // connection holds `ticket` (ConnectionGate) until then. Over TLS with
  // `tls` (HTTPS), whose handshake must finish within request_timeout_ms (a
  // failure is logged once and closes this connection only).
  void serve(boost::asio::ip::tcp::socket socket, size_t worker, ConnectionTicket ticket = {},
             TlsContextPtr tls = nullptr);

  // Config reload: connections accepted from now on use these routes and
  // limits; open connections keep the ones they started with (each holds its
  // snapshot for its life).
  void replace(std::vector<HttpRoute> routes, HttpLimits limits);

  // Drain: from now on every response says "Connection: close" (RFC 9112
  // 9.6) and its connection closes after it; connections idle between
  // keep-alive requests are closed now. Responses in progress (a file
  // download, a live stream) go on. Not reversible.
  void begin_drain();
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  struct Site {
    std::vector<HttpRoute> routes;
    HttpLimits limits;
  };
  boost::asio::awaitable<void> run(HttpConnection& connection, const Site& site);
  boost::asio::awaitable<bool> handshake(HttpConnection& connection);
  void forget(HttpConnection* connection);

  mutable std::mutex mutex_;  // site_, connections_: per connection, never per request
  std::shared_ptr<const Site> site_;
  std::unordered_map<HttpConnection*, std::weak_ptr<HttpConnection>> connections_;
  std::atomic<bool> draining_{false};
};

}  // namespace cascade::net
