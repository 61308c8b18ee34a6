#include "app/server.h"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <functional>
#include <thread>

#include "access/access_control.h"
#include "app/component_settings.h"
#include "app/drain.h"
#include "core/log.h"
#include "core/session_counts.h"
#include "core/time.h"
#include "live/hub.h"
#include "net/connection_gate.h"
#include "net/endpoint.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "net/tcp_listener.h"
#include "net/tls_context.h"
#include "net/worker_pool.h"
#include "servers/api/api_routes.h"
#include "servers/hls/hls_registry.h"
#include "servers/hls/hls_route.h"
#include "servers/http_flv/flv_packager.h"
#include "servers/http_flv/flv_viewer.h"
#include "servers/rtmp/rtmp_connection.h"
#include "servers/rtmp/rtmp_packager.h"
#include "servers/web/web_route.h"
#include "vod/vod_route.h"

namespace cascade::app {

struct Server::Parts {
  std::unique_ptr<net::WorkerPool> pool;
  std::unique_ptr<net::ConnectionGate> gate;  // every listener's admissions
  std::unique_ptr<servers::HlsRegistry> hls;
  std::unique_ptr<live::Hub> hub;
  // The snapshot new connections take (reload swaps it): the RTMP config and
  // the access control the RTMP listeners hand to their connections.
  mutable std::mutex rtmp_mutex;
  std::shared_ptr<const servers::RtmpServerConfig> rtmp_config;
  access::AccessControl* access = nullptr;
  // Every access control built, the current one last. A connection or route
  // holds a reference to the one current when it began, so older ones stay
  // (a few KB per reload) for as long as the process.
  std::vector<std::unique_ptr<access::AccessControl>> access_controls;
  // Parsed-index caches, shared by every VOD root across reloads (one budget).
  std::shared_ptr<vod::VodCaches> vod_caches;
  // Blocking work of the VOD routes (index reads and parses, segment reads):
  // [server] io_threads threads, shared by every root across reloads.
  std::shared_ptr<net::IoPool> io;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::HttpServer> admin_http;  // [admin] listen set
  std::unique_ptr<net::TcpListener> rtmp_listener;
  std::unique_ptr<net::TcpListener> http_listener;
  std::unique_ptr<net::TcpListener> admin_listener;
  std::optional<boost::asio::ip::tcp::endpoint> rtmp_endpoint;
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint;
  // [tls]: the current certificate for new RTMPS/HTTPS connections.
  std::shared_ptr<net::TlsContextStore> tls;
  std::unique_ptr<net::TcpListener> rtmps_listener;
  std::unique_ptr<net::TcpListener> https_listener;
  std::optional<boost::asio::ip::tcp::endpoint> rtmps_endpoint;
  std::optional<boost::asio::ip::tcp::endpoint> https_endpoint;

  // The lifecycle: signals, reload logs and drain run on this loop, on the
  // thread in run_until_signal().
  boost::asio::io_context control;
  std::unique_ptr<boost::asio::steady_timer> drain_timer;
  DrainState drain;
  int64_t last_progress_log_ms = 0;
  int exit_code = 0;
};

namespace {

std::string join(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& key : keys) out += (out.empty() ? "" : ", ") + key;
  return out;
}

boost::json::array json_keys(const std::vector<std::string>& keys) {
  boost::json::array out;
  for (const auto& key : keys) out.emplace_back(key);
  return out;
}

}  // namespace

uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

Server::Server(Config config, ConfigSource source)
    : config_(std::move(config)), source_(std::move(source)), parts_(std::make_unique<Parts>()) {}

Server::~Server() {
  stop();
}

Result<std::vector<net::HttpRoute>> Server::http_routes(const Config& config,
                                                        access::AccessControl& access) {
  Parts& p = *parts_;
  std::vector<net::HttpRoute> routes;
  // Admin endpoints on the public listener unless they have their own (and
  // then denied without a token, as everywhere).
  if (config.admin.listen.empty()) {
    routes.push_back(servers::make_admin_route(*this, *p.hub, config.admin.token));
  }
  routes.push_back(servers::make_api_route(*p.hub, [this] { return parts_->drain.draining(); }));
  // /vod/ belongs to on-demand files (before HTTP-FLV, which would read
  // /vod/x.flv as live stream "vod/x").
  // Each VOD root is a route with its own directory and settings; the
  // parsed-index caches are shared (one budget).
  if (!config.vod.root.empty()) {
    auto route =
        vod::make_vod_route(vod_settings(config.vod, "/vod/", config.vod.root), p.vod_caches, p.io);
    if (!route) return make_error("vod.root: {}", route.error().message);
    routes.push_back(std::move(route.value()));
  }
  for (size_t i = 0; i < config.vod.roots.size(); ++i) {
    const Config::VodRoot& root = config.vod.roots[i];
    auto route =
        vod::make_vod_route(vod_settings(root.settings, root.prefix, root.path), p.vod_caches,
                            p.io);
    if (!route) {
      return make_error("vod.roots[{}] ({}): {}", i, root.prefix, route.error().message);
    }
    routes.push_back(std::move(route.value()));
  }
  routes.push_back(servers::make_http_flv_route(*p.hub, *p.hub->find_format("flv"), access));
  if (p.hls) routes.push_back(servers::make_hls_route(*p.hls, access));
  routes.push_back(servers::make_web_route());
  return routes;
}

Status Server::start() {
  // sendfile(2) (VOD files, HLS memory files) has no MSG_NOSIGNAL: a peer
  // that resets mid-body would raise SIGPIPE and kill the process. The
  // error comes back as EPIPE instead and ends that response only.
  std::signal(SIGPIPE, SIG_IGN);
  Parts& p = *parts_;
  size_t workers = config_.server.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  p.pool = std::make_unique<net::WorkerPool>(workers);
  p.gate = std::make_unique<net::ConnectionGate>(
      net::ConnectionLimits{.max_connections = config_.limits.max_connections,
                            .max_connections_per_ip = config_.limits.max_connections_per_ip,
                            .accept_rate_per_ip = config_.limits.accept_rate_per_ip,
                            .accept_burst_per_ip = config_.limits.accept_burst_per_ip});
  auto access_control = access::AccessControl::create(access_settings(config_), workers);
  if (!access_control) return make_error("access: {}", access_control.error().message);
  p.access = access_control.value().get();
  p.access_controls.push_back(std::move(access_control.value()));

  const uint32_t chunk_size = config_.rtmp.chunk_size;
  std::vector<live::OutputFormat> formats = {
      {"rtmp", [chunk_size] { return servers::make_rtmp_packager(chunk_size); }},
      {"flv", [] { return servers::make_flv_packager(); }},
  };
  std::vector<live::StreamSubscriberFactory> subscribers;
  if (config_.hls.enabled && config_.http.enabled) {
    p.hls = std::make_unique<servers::HlsRegistry>(hls_settings(config_), p.pool->contexts());
    subscribers.push_back(p.hls->subscriber_factory());
  }
  p.hub = std::make_unique<live::Hub>(hub_config(config_), std::move(formats), p.pool->contexts(),
                                      std::move(subscribers));

  const bool tls_listeners = !config_.tls.rtmps_listen.empty() || !config_.tls.https_listen.empty();
  if (tls_listeners) {
    auto store = net::TlsContextStore::open(config_.tls.cert_file, config_.tls.key_file);
    if (!store) return make_error("tls: {}", store.error().message);
    p.tls = std::move(store.value());
    log::get("server").info("TLS certificate {}", net::describe_certificate(*p.tls->current()));
  }

  if (config_.rtmp.enabled) {
    p.rtmp_config = rtmp_server_config(config_);
    live::FormatId rtmp_format = *p.hub->find_format("rtmp");
    // Each connection takes the RTMP config and access control current when
    // it is accepted (a reload swaps them); RTMPS ones also the certificate.
    auto rtmp_handler = [this, rtmp_format](bool tls) {
      return [this, rtmp_format, tls](boost::asio::ip::tcp::socket socket, size_t worker,
                                      net::ConnectionTicket ticket) {
        std::shared_ptr<const servers::RtmpServerConfig> config;
        access::AccessControl* access;
        {
          std::lock_guard lock(parts_->rtmp_mutex);
          config = parts_->rtmp_config;
          access = parts_->access;
        }
        std::make_shared<servers::RtmpConnection>(
            std::move(socket), worker, *parts_->hub, rtmp_format, std::move(config), *access,
            std::move(ticket), tls ? parts_->tls->current() : nullptr)
            ->start();
      };
    };
    p.rtmp_listener = std::make_unique<net::TcpListener>(
        *p.pool, "rtmp", rtmp_handler(false), static_cast<int>(config_.server.send_buffer_bytes));
    p.rtmp_listener->set_gate(*p.gate);  // RTMP has no refusal message before connect
    auto endpoint = net::parse_endpoint(config_.rtmp.listen);
    if (!endpoint) return make_error("rtmp.listen: {}", endpoint.error().message);
    auto bound = p.rtmp_listener->listen(*endpoint);
    if (!bound) return bound.error();
    p.rtmp_endpoint = *bound;
    if (!config_.tls.rtmps_listen.empty()) {
      p.rtmps_listener = std::make_unique<net::TcpListener>(
          *p.pool, "rtmps", rtmp_handler(true), static_cast<int>(config_.server.send_buffer_bytes));
      p.rtmps_listener->set_gate(*p.gate);
      auto tls_endpoint = net::parse_endpoint(config_.tls.rtmps_listen);
      if (!tls_endpoint) return make_error("tls.rtmps_listen: {}", tls_endpoint.error().message);
      auto tls_bound = p.rtmps_listener->listen(*tls_endpoint);
      if (!tls_bound) return tls_bound.error();
      p.rtmps_endpoint = *tls_bound;
    }
  }

  if (config_.http.enabled) {
    p.vod_caches = std::make_shared<vod::VodCaches>(vod::VodSettings{}.index_cache_bytes);
    p.io = std::make_shared<net::IoPool>(config_.server.io_threads);
    auto routes = http_routes(config_, *p.access);
    if (!routes) return routes.error();
    p.http = std::make_unique<net::HttpServer>(std::move(routes.value()), http_limits(config_));
    p.http_listener = std::make_unique<net::TcpListener>(
        *p.pool, "http",
        [this](boost::asio::ip::tcp::socket socket, size_t worker, net::ConnectionTicket ticket) {
          parts_->http->serve(std::move(socket), worker, std::move(ticket));
        },
        0);  // HTTP: autotuned; live HTTP-FLV viewers bound theirs (HttpLimits)
    p.http_listener->set_gate(*p.gate,
                              "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                              "Content-Type: text/plain\r\nContent-Length: 20\r\n"
                              "Connection: close\r\n\r\nconnection refused.\n");
    auto endpoint = net::parse_endpoint(config_.http.listen);
    if (!endpoint) return make_error("http.listen: {}", endpoint.error().message);
    auto bound = p.http_listener->listen(*endpoint);
    if (!bound) return bound.error();
    p.http_endpoint = *bound;
    if (!config_.tls.https_listen.empty()) {
      p.https_listener = std::make_unique<net::TcpListener>(
          *p.pool, "https",
          [this](boost::asio::ip::tcp::socket socket, size_t worker, net::ConnectionTicket ticket) {
            parts_->http->serve(std::move(socket), worker, std::move(ticket),
                                parts_->tls->current());
          },
          0);
      // Refused without an answer: plain text cannot go on a TLS port.
      p.https_listener->set_gate(*p.gate);
      auto tls_endpoint = net::parse_endpoint(config_.tls.https_listen);
      if (!tls_endpoint) return make_error("tls.https_listen: {}", tls_endpoint.error().message);
      auto tls_bound = p.https_listener->listen(*tls_endpoint);
      if (!tls_bound) return tls_bound.error();
      p.https_endpoint = *tls_bound;
    }
  }

  std::optional<boost::asio::ip::tcp::endpoint> admin_endpoint;
  if (!config_.admin.listen.empty()) {
    // Its own listener: only the admin endpoints, everything else is 404.
    p.admin_http = std::make_unique<net::HttpServer>(
        std::vector<net::HttpRoute>{servers::make_admin_route(*this, *p.hub, config_.admin.token)},
        http_limits(config_));
    p.admin_listener = std::make_unique<net::TcpListener>(
        *p.pool, "admin",
        // Not gated: operators reach the admin endpoints during a flood.
        [this](boost::asio::ip::tcp::socket socket, size_t worker, net::ConnectionTicket ticket) {
          parts_->admin_http->serve(std::move(socket), worker, std::move(ticket));
        },
        0);
    auto endpoint = net::parse_endpoint(config_.admin.listen);
    if (!endpoint) return make_error("admin.listen: {}", endpoint.error().message);
    auto bound = p.admin_listener->listen(*endpoint);
    if (!bound) return bound.error();
    admin_endpoint = *bound;
  }

  p.pool->start();
  if (p.rtmp_listener) p.rtmp_listener->start();
  if (p.http_listener) p.http_listener->start();
  if (p.rtmps_listener) p.rtmps_listener->start();
  if (p.https_listener) p.https_listener->start();
  if (p.admin_listener) p.admin_listener->start();
  log::get("server").info("started with {} workers", workers);
  if (p.rtmp_endpoint) {
    log::get("server").info("rtmp listening on {}", net::to_string(*p.rtmp_endpoint));
  }
  if (p.http_endpoint) {
    log::get("server").info("http listening on {}", net::to_string(*p.http_endpoint));
  }
  if (p.rtmps_endpoint) {
    log::get("server").info("rtmps listening on {}", net::to_string(*p.rtmps_endpoint));
  }
  if (p.https_endpoint) {
    log::get("server").info("https listening on {}", net::to_string(*p.https_endpoint));
  }
  if (admin_endpoint) {
    log::get("server").info("admin listening on {}", net::to_string(*admin_endpoint));
  }
  return {};
}

Status Server::reload_components(const Config& config) {
  // Other components reload here (TLS certificates, publish/play auth keys,
  // limits, ...): each validates and prepares its part of `config` and
  // returns an error to reject the whole reload, before anything below is
  // swapped in. Called with config_mutex_ held, on the reloading thread.
  (void)config;
  // TLS: the certificate and key are re-read from the files named at start
  // (tls.* themselves need a restart): a renewed pair is what a reload is
  // for; a pair that does not load rejects the reload.
  if (auto reloaded = reload_tls(); !reloaded)
    return make_error("tls: {}", reloaded.error().message);
  return {};
}

Status Server::apply(const Config& config) {
  Parts& p = *parts_;
  // Build first, swap after: a reload that fails half-way changes nothing.
  auto access = access::AccessControl::create(access_settings(config), p.pool->size());
  if (!access) return make_error("access: {}", access.error().message);
  std::optional<std::vector<net::HttpRoute>> routes;
  if (p.http) {
    auto built = http_routes(config, *access.value());
    if (!built) return built.error();
    routes = std::move(built.value());
  }
  if (auto status = reload_components(config); !status) return status;

  {
    auto rtmp = rtmp_server_config(config);
    std::lock_guard lock(p.rtmp_mutex);
    p.rtmp_config.swap(rtmp);
    p.access = access.value().get();
  }
  p.access_controls.push_back(std::move(access.value()));
  if (p.http) p.http->replace(std::move(*routes), http_limits(config));
  if (p.admin_http) {
    p.admin_http->replace({servers::make_admin_route(*this, *p.hub, config.admin.token)},
                          http_limits(config));
  }
  if (p.hls) p.hls->set_settings(hls_settings(config));
  log::set_level(config.server.log_level);
  return {};
}

ReloadOutcome Server::reload_config() {
  auto& logger = log::get("server");
  ReloadOutcome outcome;
  if (!source_) {
    outcome.error = "no config file to reload (started without --config)";
    logger.error("reload rejected: {}", outcome.error);
    return outcome;
  }
  std::lock_guard lock(config_mutex_);
  auto loaded = source_();
  if (!loaded) {
    outcome.error = loaded.error().message;
    logger.error("reload rejected, keeping the running config: {}", outcome.error);
    return outcome;
  }
  const ConfigDiff diff = diff_config(config_, *loaded);
  Config next = keep_restart_settings(config_, std::move(loaded.value()));
  // The mix of new and kept values must itself be valid (e.g. a kept
  // chunk_size against a new max_message_size).
  if (auto checked = parse_config(to_toml(next), "reloaded config"); !checked) {
    outcome.error = checked.error().message + " (with the settings that need a restart kept)";
    logger.error("reload rejected, keeping the running config: {}", outcome.error);
    return outcome;
  }
  if (auto applied = apply(next); !applied) {
    outcome.error = applied.error().message;
    logger.error("reload rejected, keeping the running config: {}", outcome.error);
    return outcome;
  }
  config_ = std::move(next);
  outcome.applied = true;
  outcome.diff = diff;
  if (diff.empty()) {
    logger.info("config reloaded: nothing changed");
  } else {
    logger.info("config reloaded: changed {}", join(diff.changed));
  }
  if (!diff.needs_restart.empty()) {
    logger.warn("config reload: {} need a restart to change; keeping their running values",
                join(diff.needs_restart));
  }
  return outcome;
}

boost::json::object Server::reload() {
  const ReloadOutcome outcome = reload_config();
  boost::json::object out{{"applied", outcome.applied}};
  if (!outcome.applied) {
    out["error"] = outcome.error;
  } else {
    out["changed"] = json_keys(outcome.diff.changed);
    out["needs_restart"] = json_keys(outcome.diff.needs_restart);
  }
  return out;
}

bool Server::start_drain(std::string reason) {
  uint32_t timeout_s;
  {
    std::lock_guard lock(config_mutex_);
    timeout_s = config_.drain.timeout_s;
  }
  if (!parts_->drain.begin(steady_now_ms(), timeout_s, std::move(reason))) return false;
  boost::asio::post(parts_->control, [this] { on_drain_started(); });
  return true;
}

boost::json::object Server::begin_drain() {
  start_drain("admin API");
  return drain_state();
}

boost::json::object Server::drain_state() const {
  const DrainProgress progress = parts_->drain.progress(steady_now_ms());
  boost::json::object out{{"draining", progress.draining}};
  if (progress.draining) {
    out["reason"] = progress.reason;
    out["timeout_s"] = progress.timeout_s;
    out["elapsed_s"] = double(progress.elapsed_ms) / 1000;
    out["remaining_s"] = double(progress.remaining_ms) / 1000;
  }
  out["sessions"] = servers::session_totals_json();
  return out;
}

void Server::on_drain_started() {
  Parts& p = *parts_;
  const DrainProgress progress = p.drain.progress(steady_now_ms());
  // New connections are refused from here on (the listening sockets close);
  // the admin listener stays, for drain progress.
  if (p.rtmp_listener) p.rtmp_listener->close();
  if (p.http_listener) p.http_listener->close();
  if (p.rtmps_listener) p.rtmps_listener->close();
  if (p.https_listener) p.https_listener->close();
  if (p.http) p.http->begin_drain();
  if (p.admin_http) p.admin_http->begin_drain();
  log::get("server").info("draining ({}): listeners closed; up to {} s for {}", progress.reason,
                          progress.timeout_s, describe_sessions(SessionCounts::global().totals()));
  p.last_progress_log_ms = steady_now_ms();
  p.drain_timer = std::make_unique<boost::asio::steady_timer>(p.control);
  drain_tick();
}

void Server::drain_tick() {
  Parts& p = *parts_;
  const int64_t now = steady_now_ms();
  const SessionTotals totals = SessionCounts::global().totals();
  const DrainProgress progress = p.drain.progress(now);
  auto& logger = log::get("server");
  if (totals.total() == 0) {
    logger.info("drained: every session ended after {:.1f} s; exiting",
                double(progress.elapsed_ms) / 1000);
    p.exit_code = 0;
    p.control.stop();
    return;
  }
  if (p.drain.deadline_passed(now)) {
    logger.info("drain deadline ({} s) reached; closing {}", progress.timeout_s,
                describe_sessions(totals));
    p.exit_code = 0;
    p.control.stop();
    return;
  }
  if (now - p.last_progress_log_ms >= 1000) {
    p.last_progress_log_ms = now;
    logger.info("draining: {}; {:.0f} s to the deadline", describe_sessions(totals),
                double(progress.remaining_ms) / 1000);
  }
  // Polled (cheap: a few relaxed loads), so the exit follows the last
  // session within 100 ms.
  p.drain_timer->expires_after(std::chrono::milliseconds(100));
  p.drain_timer->async_wait([this](boost::system::error_code ec) {
    if (!ec) drain_tick();
  });
}

int Server::run_until_signal() {
  Parts& p = *parts_;
  boost::asio::signal_set signals(p.control, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait;
  wait = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      auto& logger = log::get("server");
      if (signal == SIGHUP) {
        logger.info("signal {} (SIGHUP) received; reloading the config", signal);
        reload_config();
      } else if (!p.drain.draining()) {
        logger.info("signal {} received; stopping: draining", signal);
        start_drain(fmt::format("signal {}", signal));
      } else {
        logger.warn("signal {} received while draining; exiting at once with status {}", signal,
                    128 + signal);
        p.exit_code = 128 + signal;
        p.control.stop();
        return;
      }
      wait();
    });
  };
  wait();
  p.control.run();
  const int code = p.exit_code;
  stop();
  return code;
}

Status Server::reload_tls() {
  if (!parts_ || !parts_->tls) return {};
  if (auto reloaded = parts_->tls->reload(); !reloaded) return reloaded;
  log::get("server").info("TLS certificate reloaded: {}",
                          net::describe_certificate(*parts_->tls->current()));
  return {};
}

void Server::stop() {
  if (!parts_ || !parts_->pool) return;
  if (parts_->rtmp_listener) parts_->rtmp_listener->close();
  if (parts_->http_listener) parts_->http_listener->close();
  if (parts_->rtmps_listener) parts_->rtmps_listener->close();
  if (parts_->https_listener) parts_->https_listener->close();
  if (parts_->admin_listener) parts_->admin_listener->close();
  parts_->pool->stop(true);
  parts_->pool->join();
  if (parts_->io) parts_->io->stop();  // after the workers: nothing awaits its jobs now
  // The process is exiting: sessions still open are not torn down one by one
  // (their objects span workers whose event loops have stopped), so the
  // parts are deliberately left to the operating system.
  (void)parts_.release();
}

std::optional<boost::asio::ip::tcp::endpoint> Server::rtmp_endpoint() const {
  return parts_->rtmp_endpoint;
}
std::optional<boost::asio::ip::tcp::endpoint> Server::http_endpoint() const {
  return parts_->http_endpoint;
}
std::optional<boost::asio::ip::tcp::endpoint> Server::rtmps_endpoint() const {
  return parts_->rtmps_endpoint;
}
std::optional<boost::asio::ip::tcp::endpoint> Server::https_endpoint() const {
  return parts_->https_endpoint;
}

}  // namespace cascade::app
