// TcpListener: accepts connections on worker 0 and hands each to the next
// worker, round-robin, for the connection's whole life.
//
// At the descriptor limit (EMFILE/ENFILE) pending connections are refused
// cleanly: a reserved descriptor is released to accept each one and close it
// at once, so clients see the connection closed instead of hanging in the
// backlog. Nothing spins (accepting pauses briefly when even that fails);
// existing connections are unaffected, and service resumes by itself once
// descriptors free up.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "core/metrics.h"
#include "core/result.h"
#include "net/worker_pool.h"

namespace cascade::net {

class TcpListener {
 public:
  // Called on the connection's worker.
  using Handler = std::function<void(boost::asio::ip::tcp::socket socket, size_t worker)>;

  // send_buffer_bytes > 0 bounds each accepted socket's kernel send buffer
  // (SO_SNDBUF), so memory stays predictable with many slow viewers.
  TcpListener(WorkerPool& pool, std::string name, Handler handler, int send_buffer_bytes = 0);
  ~TcpListener();

  // Binds and listens; port 0 picks a free port. Returns the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void close();

 private:
  void accept_next();
  // Hands an accepted socket to its worker.
  void dispatch(boost::asio::ip::tcp::socket socket, size_t worker);
  // Accepts what else is already queued, without waiting (like nginx's
  // multi_accept): a completion handler runs once per pass through a busy
  // worker's queue, which alone would admit one connection per pass.
  // False if accepting must pause (out of descriptors).
  bool drain_backlog();
  bool is_out_of_descriptors(const boost::system::error_code& ec) const;
  void on_out_of_descriptors(const boost::system::error_code& ec);
  void reopen_reserve();

  WorkerPool& pool_;
  std::string name_;
  Handler handler_;
  int send_buffer_bytes_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  size_t next_worker_ = 0;
  int reserve_fd_ = -1;  // released to refuse connections at the fd limit
  int64_t last_limit_log_ms_ = 0;
  Counter& accepted_;
  Counter& accept_errors_;
  Counter& refused_;
};

}  // namespace cascade::net
