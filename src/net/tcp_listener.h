// TcpListener: accepts connections on worker 0 and hands each to the next
// worker, round-robin, for the connection's whole life.
//
// At the descriptor limit (EMFILE/ENFILE) accepting pauses briefly instead of
// spinning; existing connections are unaffected and accepting resumes by
// itself once descriptors free up.
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

  TcpListener(WorkerPool& pool, std::string name, Handler handler);

  // Binds and listens; port 0 picks a free port. Returns the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void close();

 private:
  void accept_next();

  WorkerPool& pool_;
  std::string name_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  size_t next_worker_ = 0;
  Counter& accepted_;
  Counter& accept_errors_;
};

}  // namespace cascade::net
