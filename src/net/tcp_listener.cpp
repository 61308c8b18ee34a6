#include "net/tcp_listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>

#include "core/log.h"
#include "core/time.h"
#include "net/endpoint.h"

namespace cascade::net {

TcpListener::TcpListener(WorkerPool& pool, std::string name, Handler handler,
                         int send_buffer_bytes)
    : pool_(pool),
      name_(std::move(name)),
      handler_(std::move(handler)),
      send_buffer_bytes_(send_buffer_bytes),
      acceptor_(pool.context(0)),
      backoff_(pool.context(0)),
      accepted_(Metrics::global().counter(
          fmt::format("cascade_connections_accepted_total{{listener=\"{}\"}}", name_))),
      accept_errors_(Metrics::global().counter(
          fmt::format("cascade_accept_errors_total{{listener=\"{}\"}}", name_))),
      refused_(Metrics::global().counter(
          fmt::format("cascade_connections_refused_total{{listener=\"{}\",reason=\"fd_limit\"}}",
                      name_))) {
  reopen_reserve();
}

TcpListener::~TcpListener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void TcpListener::reopen_reserve() {
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void TcpListener::on_out_of_descriptors(const boost::system::error_code& ec) {
  // Refuse what is waiting in the backlog, one reserved descriptor at a time.
  uint64_t refused = 0;
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    while (true) {
      int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;
      ::close(fd);
      ++refused;
    }
    reopen_reserve();
  }
  refused_.inc(refused);
  int64_t now = steady_now_ms();
  if (now - last_limit_log_ms_ >= 1000) {
    last_limit_log_ms_ = now;
    log::get("net").warn("{} listener: {}; refusing new connections ({} refused)", name_,
                         ec.message(), refused_.value());
  }
  if (refused > 0 && reserve_fd_ >= 0) {
    accept_next();
    return;
  }
  // Nothing could be refused (no reserve, or the backlog is empty): wait a
  // little instead of spinning on a listener that stays readable.
  backoff_.expires_after(std::chrono::milliseconds(100));
  backoff_.async_wait([this](boost::system::error_code wait_ec) {
    if (wait_ec) return;
    reopen_reserve();
    accept_next();
  });
}

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

void TcpListener::set_gate(ConnectionGate& gate, std::string refusal) {
  gate_ = &gate;
  refusal_bytes_ = std::move(refusal);
  for (Refusal reason :
       {Refusal::kMaxConnections, Refusal::kMaxConnectionsPerIp, Refusal::kAcceptRate}) {
    refused_by_gate_[static_cast<size_t>(reason)] = &Metrics::global().counter(
        fmt::format("cascade_connections_refused_total{{listener=\"{}\",reason=\"{}\"}}", name_,
                    to_string(reason)));
  }
}

void TcpListener::refuse(boost::asio::ip::tcp::socket& socket,
                         const boost::asio::ip::tcp::endpoint& peer, Refusal refusal) {
  refused_by_gate_[static_cast<size_t>(refusal)]->inc();
  const int fd = socket.native_handle();
  if (!refusal_bytes_.empty()) {
    // Whatever the client already sent is discarded first: closing with
    // unread bytes would send a reset, which may destroy the answer before
    // the client reads it. Non-blocking, bounded: a refusal never waits.
    char discard[4096];
    for (int i = 0; i < 4 && ::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
    }
    (void)::send(fd, refusal_bytes_.data(), refusal_bytes_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  boost::system::error_code ignored;
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
  ++refusals_unlogged_;
  const int64_t now = steady_now_ms();
  if (now - last_refusal_log_ms_ >= 1000) {
    last_refusal_log_ms_ = now;
    log::get("net").warn("{} listener: refused {} ({}; {} refused since the last report, {} open)",
                         name_, to_string(peer), to_string(refusal), refusals_unlogged_,
                         gate_->open());
    refusals_unlogged_ = 0;
  }
}

void TcpListener::start() {
  boost::asio::post(acceptor_.get_executor(), [this] { accept_next(); });
}

void TcpListener::close() {
  auto close_now = [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  };
  boost::asio::io_context& worker0 = pool_.context(0);
  if (worker0.get_executor().running_in_this_thread()) {
    close_now();
    return;
  }
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> done = closed->get_future();
  boost::asio::post(worker0, [close_now, closed] {
    close_now();
    closed->set_value();
  });
  if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    log::get("net").warn("{} listener: worker 0 did not close the socket within 2 s", name_);
  }
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
          if (is_out_of_descriptors(ec)) {
            on_out_of_descriptors(ec);
            return;
          }
          accept_next();
          return;
        }
        dispatch(std::move(socket), worker);
        if (drain_backlog()) accept_next();
      });
}

bool TcpListener::is_out_of_descriptors(const boost::system::error_code& ec) const {
  return ec == boost::asio::error::no_descriptors || ec.value() == ENFILE ||
         ec == boost::asio::error::no_buffer_space || ec == boost::asio::error::no_memory;
}

void TcpListener::dispatch(boost::asio::ip::tcp::socket socket, size_t worker) {
  accepted_.inc();
  ConnectionTicket ticket;
  if (gate_) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // already gone (reset in the backlog): nothing to serve
    auto admission = gate_->admit(peer.address());
    if (!admission.admitted()) {
      refuse(socket, peer, admission.refusal);
      return;
    }
    ticket = std::move(admission.ticket);
  }
  if (send_buffer_bytes_ > 0) {
    boost::system::error_code ignored;
    socket.set_option(boost::asio::socket_base::send_buffer_size(send_buffer_bytes_), ignored);
  }
  boost::asio::post(pool_.context(worker), [this, worker, socket = std::move(socket),
                                            ticket = std::move(ticket)]() mutable {
    handler_(std::move(socket), worker, std::move(ticket));
  });
}

bool TcpListener::drain_backlog() {
  constexpr int kMaxPerPass = 256;  // bounded: the worker has other work too
  boost::system::error_code ec;
  acceptor_.non_blocking(true, ec);
  if (ec) return true;
  for (int i = 0; i < kMaxPerPass && acceptor_.is_open(); ++i) {
    const size_t worker = next_worker_;
    boost::asio::ip::tcp::socket socket = acceptor_.accept(pool_.context(worker), ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) break;
    if (ec) {
      accept_errors_.inc();
      if (is_out_of_descriptors(ec)) {
        on_out_of_descriptors(ec);
        return false;
      }
      break;
    }
    next_worker_ = (next_worker_ + 1) % pool_.size();
    dispatch(std::move(socket), worker);
  }
  return true;
}

}  // namespace cascade::net
