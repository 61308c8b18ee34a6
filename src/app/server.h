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
  // Blocks until SIGINT or SIGTERM, then stops. SIGHUP reloads the TLS
  // certificate and key (reload_tls()).
  void run_until_signal();
  void stop();

  // Re-reads tls.cert_file and tls.key_file for new TLS connections;
  // existing ones keep their certificate. A pair that fails to load is
  // rejected (the error says why) and the old one kept. Nothing to do (ok)
  // without TLS. Thread-safe.
  Status reload_tls();

  std::optional<boost::asio::ip::tcp::endpoint> rtmp_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> rtmps_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> https_endpoint() const;

 private:
  struct Parts;
  Config config_;
  std::unique_ptr<Parts> parts_;
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new limit.
uint64_t raise_fd_limit();

}  // namespace cascade::app
