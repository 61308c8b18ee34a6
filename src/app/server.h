// Server: the composition root. Builds the worker pool, the hub with its
// output formats, and the RTMP and HTTP listeners from one Config snapshot.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>

#include "app/config.h"
#include "core/result.h"

namespace cascade::app {

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Binds the listeners and starts the workers.
  Status start();
  // Blocks until SIGINT or SIGTERM, then stops.
  void run_until_signal();
  void stop();

  std::optional<boost::asio::ip::tcp::endpoint> rtmp_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint() const;

 private:
  struct Parts;
  Config config_;
  std::unique_ptr<Parts> parts_;
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new limit.
uint64_t raise_fd_limit();

}  // namespace cascade::app
