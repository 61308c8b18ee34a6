// TcpListener: accepts connections on worker 0 and hands each to the next
// worker, round-robin, for the connection's whole life.
//
// At the descriptor limit (EMFILE/ENFILE) pending connections are refused
// cleanly: a reserved descriptor is released to accept each one and close it
// at once, so clients see the connection closed instead of hanging in the
// backlog. Nothing spins (accepting pauses briefly when even that fails);
// existing connections are unaffected, and service resumes by itself once
// descriptors free up.
//
// With a ConnectionGate (set_gate), each accepted connection is admitted or
// refused before anything is allocated for it: a refused one gets the
// listener's refusal bytes (if any: HTTP's 503) written without reading its
// request, and is closed at once; it is counted in
// cascade_connections_refused_total{listener,reason} and logged at most
// once a second.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "core/metrics.h"
#include "core/result.h"
#include "net/connection_gate.h"
#include "net/worker_pool.h"

namespace cascade::net {

class TcpListener {
 public:
  // Called on the connection's worker. The session keeps `ticket` for its
  // whole life (an empty ticket when no gate is set).
  using Handler = std::function<void(boost::asio::ip::tcp::socket socket, size_t worker,
                                     ConnectionTicket ticket)>;

  // send_buffer_bytes > 0 bounds each accepted socket's kernel send buffer
  // (SO_SNDBUF), so memory stays predictable with many slow viewers.
  TcpListener(WorkerPool& pool, std::string name, Handler handler, int send_buffer_bytes = 0);
  ~TcpListener();

  // Binds and listens; port 0 picks a free port. Returns the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Admits connections through `gate` (shared by listeners; it outlives
  // them). `refusal` is written to a refused connection before it is closed
  // (best effort, never waiting), e.g. an HTTP 503. Call before start().
  void set_gate(ConnectionGate& gate, std::string refusal = {});
  void start();
  // Closes the listening socket on worker 0 and returns once it is closed
  // (new connections are refused from then on: a caller may say so), or
  // after 2 s if worker 0 does not run (a warning is logged). Called on
  // worker 0 itself, it closes at once.
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
  // Writes the refusal bytes and closes; counts and (at most once a second)
  // logs it.
  void refuse(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& peer,
              Refusal refusal);
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
  ConnectionGate* gate_ = nullptr;
  std::string refusal_bytes_;
  // Refusals by gate reason, indexed by Refusal.
  std::array<Counter*, 4> refused_by_gate_{};
  int64_t last_refusal_log_ms_ = 0;
  uint64_t refusals_unlogged_ = 0;
};

}  // namespace cascade::net
