// Server: the composition root. Builds the worker pool, the hub with its
// output formats, and the RTMP and HTTP listeners from a Config, and owns
// the process lifecycle: SIGHUP reloads the config, SIGTERM/SIGINT drain.
//
// Reload: each new connection takes the runtime snapshot current when it is
// accepted (RTMP server config, HTTP routes and limits); HLS settings apply
// to streams created after the reload. Open sessions keep what they started
// with. Settings that need a restart (config_diff.h) keep their old values.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "access/access_control.h"
#include "app/config.h"
#include "app/config_diff.h"
#include "core/result.h"
#include "servers/api/admin_route.h"

namespace cascade::app {

// Reads the config again for a reload: the --config file with the command
// line's overrides applied, validated.
using ConfigSource = std::function<Result<Config>()>;

struct ReloadOutcome {
  bool applied = false;
  std::string error;  // when not applied
  ConfigDiff diff;    // when applied: what changed, what needs a restart
};

class Server final : public servers::AdminControl {
 public:
  // `source`: empty when there is no config file (a reload then fails).
  explicit Server(Config config, ConfigSource source = {});
  ~Server() override;

  // Binds the listeners and starts the workers.
  Status start();
  // Runs the lifecycle on the calling thread until the process should exit:
  // SIGHUP reloads (the config, and the TLS certificate and key); the first
  // SIGTERM/SIGINT drains (returns 0 when drained or at the drain deadline);
  // a second one returns 128 + the signal at once. Then stops.
  int run_until_signal();
  void stop();

  // Any thread. Invalid config: logged, nothing changes.
  ReloadOutcome reload_config();
  // Any thread. False if already draining.
  bool start_drain(std::string reason);

  // Re-reads tls.cert_file and tls.key_file for new TLS connections;
  // existing ones keep their certificate. A pair that fails to load is
  // rejected (the error says why) and the old one kept. Nothing to do (ok)
  // without TLS. Thread-safe. Part of every config reload.
  Status reload_tls();

  // servers::AdminControl (the admin endpoints).
  boost::json::object reload() override;
  boost::json::object begin_drain() override;
  boost::json::object drain_state() const override;

  std::optional<boost::asio::ip::tcp::endpoint> rtmp_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> rtmps_endpoint() const;
  std::optional<boost::asio::ip::tcp::endpoint> https_endpoint() const;

 private:
  struct Parts;
  // Builds the runtime pieces of `config` and swaps them in. Nothing changes
  // when it fails. Holds config_mutex_.
  Status apply(const Config& config);
  // Reload hooks of other components (TLS certificates, auth keys, ...).
  Status reload_components(const Config& config);
  // The public HTTP routes of `config`, deciding publish/play with `access`.
  Result<std::vector<net::HttpRoute>> http_routes(const Config& config,
                                                  access::AccessControl& access);
  void on_drain_started();  // on the lifecycle thread
  void drain_tick();        // on the lifecycle thread

  mutable std::mutex config_mutex_;  // config_; serializes reloads
  Config config_;
  ConfigSource source_;
  std::unique_ptr<Parts> parts_;
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new limit.
uint64_t raise_fd_limit();

}  // namespace cascade::app
