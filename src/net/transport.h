// Transport: one accepted connection's byte stream, either plain TCP or TLS
// (OpenSSL, through Boost.Beast's ssl_stream) over it, chosen per connection
// at construction. Sessions (RTMP, HTTP) read and write through it without
// knowing which; the plain path adds one predictable branch per operation
// and no allocation.
//
// It is an Asio AsyncStream (AsyncReadStream + AsyncWriteStream): the
// operations take any completion token (async_initiate), so asio::async_write,
// beast::http::async_read/async_write and co_await all work on it.
//
// Contract: used on the connection's worker only (like the socket). At most
// one read and one write may be outstanding at a time (TLS allows a read and
// a write concurrently, not two of either). With TLS, async_handshake() must
// complete before any read or write.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>

namespace cascade::net {

// The socket under a plain layer (for options, addresses, closing).
inline boost::asio::ip::tcp::socket& native_socket(boost::asio::ip::tcp::socket& socket) {
  return socket;
}
inline boost::asio::ip::tcp::socket& native_socket(boost::beast::tcp_stream& stream) {
  return stream.socket();
}

using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// NextLayer: boost::asio::ip::tcp::socket (RTMP: no per-operation timer) or
// boost::beast::tcp_stream (HTTP: Beast's timeouts, which TLS goes through
// too, so a stalled handshake or record times out like a plain read).
template <class NextLayer>
class Transport {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  using TlsLayer = boost::beast::ssl_stream<NextLayer>;
  using Signature = void(boost::system::error_code, std::size_t);

  // Plain TCP when `tls` is null, else the server side of TLS over `socket`
  // with that context (kept alive as long as the connection).
  explicit Transport(boost::asio::ip::tcp::socket socket, TlsContextPtr tls = nullptr) {
    if (tls) {
      context_ = std::move(tls);
      tls_ = std::make_unique<TlsLayer>(std::move(socket), *context_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  bool is_tls() const { return tls_ != nullptr; }

  executor_type get_executor() { return tls_ ? tls_->get_executor() : plain_->get_executor(); }

  NextLayer& next_layer() { return tls_ ? tls_->next_layer() : *plain_; }
  boost::asio::ip::tcp::socket& socket() { return native_socket(next_layer()); }

  // Beast's per-operation deadline (HTTP): covers the TLS records too.
  void expires_after(std::chrono::steady_clock::duration after) requires
      std::is_same_v<NextLayer, boost::beast::tcp_stream> {
    next_layer().expires_after(after);
  }
  void expires_never() requires std::is_same_v<NextLayer, boost::beast::tcp_stream> {
    next_layer().expires_never();
  }

  // RFC 8446 / RFC 5246: the server side of the handshake. Plain: completes
  // at once with success. Timeouts are the caller's (Beast's expiry, or a
  // watchdog that closes socket()).
  template <class Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [](auto handler, Transport* self) {
          if (self->tls_) {
            self->tls_->async_handshake(boost::asio::ssl::stream_base::server, std::move(handler));
          } else {
            auto executor = boost::asio::get_associated_executor(handler, self->get_executor());
            boost::asio::post(executor, [h = std::move(handler)]() mutable {
              std::move(h)(boost::system::error_code{});
            });
          }
        },
        token, this);
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [](auto handler, Transport* self, const MutableBufferSequence& b) {
          if (self->tls_) {
            self->tls_->async_read_some(b, std::move(handler));
          } else {
            self->plain_->async_read_some(b, std::move(handler));
          }
        },
        token, this, buffers);
  }

  // With TLS, a gathered buffer sequence is coalesced (Beast's flat_stream,
  // up to 64 KiB) so it becomes full-sized records, not one per buffer.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, Signature>(
        [](auto handler, Transport* self, const ConstBufferSequence& b) {
          if (self->tls_) {
            self->tls_->async_write_some(b, std::move(handler));
          } else {
            self->plain_->async_write_some(b, std::move(handler));
          }
        },
        token, this, buffers);
  }

  // Shuts down and closes the socket; pending operations end with an error.
  // No TLS close_notify is sent (a closing connection may have a write in
  // flight, and waiting for the peer's would hold the connection).
  void close() {
    boost::system::error_code ignored;
    socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::optional<NextLayer> plain_;
  TlsContextPtr context_;
  std::unique_ptr<TlsLayer> tls_;
};

// RTMP connections: the bare socket underneath.
using TcpTransport = Transport<boost::asio::ip::tcp::socket>;
// HTTP connections: Beast's tcp_stream underneath (timeouts).
using HttpTransport = Transport<boost::beast::tcp_stream>;

}  // namespace cascade::net
