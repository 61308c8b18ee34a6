#include "net/tcp_listener.h"

#include <boost/asio/post.hpp>

#include "core/log.h"
#include "net/endpoint.h"

namespace cascade::net {

TcpListener::TcpListener(WorkerPool& pool, std::string name, Handler handler)
    : pool_(pool),
      name_(std::move(name)),
      handler_(std::move(handler)),
      acceptor_(pool.context(0)),
      backoff_(pool.context(0)),
      accepted_(Metrics::global().counter(
          fmt::format("cascade_connections_accepted_total{{listener=\"{}\"}}", name_))),
      accept_errors_(Metrics::global().counter(
          fmt::format("cascade_accept_errors_total{{listener=\"{}\"}}", name_))) {}

Result<boost::asio::ip::tcp::endpoint> TcpListener::listen(
    const boost::asio::ip::tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("{} listener on {}: {}", name_, to_string(endpoint), ec.message());
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return make_error("{} listener: {}", name_, ec.message());
  return bound;
}

void TcpListener::start() {
  boost::asio::post(acceptor_.get_executor(), [this] { accept_next(); });
}

void TcpListener::close() {
  boost::asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  });
}

void TcpListener::accept_next() {
  if (!acceptor_.is_open()) return;
  size_t worker = next_worker_;
  next_worker_ = (next_worker_ + 1) % pool_.size();
  acceptor_.async_accept(
      pool_.context(worker),
      [this, worker](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
        if (ec == boost::asio::error::operation_aborted) return;
        if (ec) {
          accept_errors_.inc();
          if (ec == boost::asio::error::no_descriptors || ec.value() == ENFILE ||
              ec == boost::asio::error::no_buffer_space || ec == boost::asio::error::no_memory) {
            // Out of descriptors: pause instead of spinning on a ready listener.
            log::get("net").warn("{} listener: {}; pausing accepts for 100 ms", name_,
                                 ec.message());
            backoff_.expires_after(std::chrono::milliseconds(100));
            backoff_.async_wait([this](boost::system::error_code wait_ec) {
              if (!wait_ec) accept_next();
            });
            return;
          }
          accept_next();
          return;
        }
        accepted_.inc();
        boost::asio::post(pool_.context(worker),
                          [this, worker, socket = std::move(socket)]() mutable {
                            handler_(std::move(socket), worker);
                          });
        accept_next();
      });
}

}  // namespace cascade::net
