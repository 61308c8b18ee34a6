#include "app/server.h"

#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <thread>

#include "access/access_control.h"
#include "core/log.h"
#include "live/hub.h"
#include "net/endpoint.h"
#include "net/http_server.h"
#include "net/tcp_listener.h"
#include "net/worker_pool.h"
#include "servers/api/api_routes.h"
#include "servers/http_flv/flv_packager.h"
#include "servers/hls/hls_registry.h"
#include "servers/hls/hls_route.h"
#include "servers/http_flv/flv_viewer.h"
#include "servers/rtmp/rtmp_connection.h"
#include "servers/rtmp/rtmp_packager.h"
#include "vod/vod_route.h"
#include "servers/web/web_route.h"

namespace cascade::app {

struct Server::Parts {
  std::unique_ptr<net::WorkerPool> pool;
  std::unique_ptr<servers::HlsRegistry> hls;
  std::unique_ptr<live::Hub> hub;
  std::unique_ptr<access::AccessControl> access;  // publish/play decisions, all servers
  servers::RtmpServerConfig rtmp_config;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::TcpListener> rtmp_listener;
  std::unique_ptr<net::TcpListener> http_listener;
  std::optional<boost::asio::ip::tcp::endpoint> rtmp_endpoint;
  std::optional<boost::asio::ip::tcp::endpoint> http_endpoint;
};

namespace {

live::HubConfig hub_config(const Config& config) {
  live::HubConfig hub;
  hub.publish_grace_ms = config.live.publish_grace_ms;
  hub.gop_cache = config.live.gop_cache;
  hub.gop_cache_max_bytes = uint64_t(config.live.gop_cache_max_mib) << 20;
  hub.lag_skip_ms = config.live.lag_skip_ms;
  hub.lag_close_ms = config.live.lag_close_ms;
  hub.coalesce_ms = config.live.coalesce_ms;
  return hub;
}

servers::HlsSettings hls_settings(const Config& config) {
  servers::HlsSettings hls;
  hls.segmenter.segment_target_ms = config.hls.segment_target_ms;
  hls.segmenter.part_target_ms = config.hls.part_target_ms;
  hls.window_segments = config.hls.window_segments;
  hls.low_latency = config.hls.low_latency;
  hls.dvr_window_s = config.hls.dvr_window_s;
  hls.dvr_max_bytes = uint64_t(config.hls.dvr_max_mib) << 20;
  hls.linger_ms = config.hls.linger_ms;
  hls.cors_origin = config.http.cors_origin;
  return hls;
}

access::AccessSettings access_settings(const Config& config) {
  access::AccessSettings a;
  for (const auto& [app, keys] : config.access.publish_keys) a.publish_keys[app] = keys;
  a.play_secret = config.access.play_secret;
  a.play_require_signature = config.access.play_require_signature;
  a.on_connect = config.access.on_connect;
  a.on_publish = config.access.on_publish;
  a.on_play = config.access.on_play;
  a.on_done = config.access.on_done;
  a.webhook_timeout_ms = config.access.webhook_timeout_ms;
  a.webhook_cache_ttl_ms = config.access.webhook_cache_ttl_ms;
  a.webhook_cache_entries = config.access.webhook_cache_entries;
  return a;
}

vod::VodSettings vod_settings(const Config::VodRootSettings& config, const std::string& prefix,
                              const std::string& path) {
  vod::VodSettings vod;
  vod.root = path;
  vod.prefix = prefix;
  vod.stall_timeout_ms = config.stall_timeout_ms;
  vod.cache_control = fmt::format("public, max-age={}", config.cache_max_age_s);
  vod.hls_segment_target_ms = int64_t{config.hls_segment_s} * 1000;
  vod.list_directories = config.list_directories;
  vod.throttle = config.throttle;
  vod.throttle_burst_s = config.throttle_burst_s;
  vod.throttle_factor = config.throttle_factor;
  vod.throttle_secret = config.throttle_secret;
  vod.flv_start_unit = config.flv_start_unit == "seconds" ? vod::FlvStartUnit::kSeconds
                                                          : vod::FlvStartUnit::kBytes;
  return vod;
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

Server::Server(Config config) : config_(std::move(config)), parts_(std::make_unique<Parts>()) {}

Server::~Server() { stop(); }

Status Server::start() {
  // sendfile(2) (VOD files, HLS memory files) has no MSG_NOSIGNAL: a peer
  // that resets mid-body would raise SIGPIPE and kill the process. The
  // error comes back as EPIPE instead and ends that response only.
  std::signal(SIGPIPE, SIG_IGN);
  Parts& p = *parts_;
  size_t workers = config_.server.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  p.pool = std::make_unique<net::WorkerPool>(workers);
  auto access_control = access::AccessControl::create(access_settings(config_), workers);
  if (!access_control) return make_error("access: {}", access_control.error().message);
  p.access = std::move(access_control.value());

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
  p.hub = std::make_unique<live::Hub>(hub_config(config_), std::move(formats),
                                      p.pool->contexts(), std::move(subscribers));

  if (config_.rtmp.enabled) {
    auto& rc = p.rtmp_config;
    rc.session.out_chunk_size = config_.rtmp.chunk_size;
    rc.session.window_ack_size = config_.rtmp.window_ack_size;
    rc.session.peer_bandwidth = config_.rtmp.peer_bandwidth;
    rc.session.limits.max_message_size = config_.rtmp.max_message_size;
    rc.session.limits.max_pending_bytes = uint64_t(config_.rtmp.max_message_size) * 4;
    rc.handshake_timeout_ms = config_.rtmp.handshake_timeout_ms;
    rc.publisher_idle_timeout_ms = config_.rtmp.publisher_idle_timeout_ms;
    live::FormatId rtmp_format = *p.hub->find_format("rtmp");
    p.rtmp_listener = std::make_unique<net::TcpListener>(
        *p.pool, "rtmp",
        [this, rtmp_format](boost::asio::ip::tcp::socket socket, size_t worker) {
          std::make_shared<servers::RtmpConnection>(std::move(socket), worker, *parts_->hub,
                                                    rtmp_format, parts_->rtmp_config,
                                                    *parts_->access)
              ->start();
        },
        static_cast<int>(config_.server.send_buffer_bytes));
    auto endpoint = net::parse_endpoint(config_.rtmp.listen);
    if (!endpoint) return make_error("rtmp.listen: {}", endpoint.error().message);
    auto bound = p.rtmp_listener->listen(*endpoint);
    if (!bound) return bound.error();
    p.rtmp_endpoint = *bound;
  }

  if (config_.http.enabled) {
    net::HttpLimits limits;
    limits.max_header_bytes = config_.http.max_header_bytes;
    limits.request_timeout_ms = config_.http.request_timeout_ms;
    limits.idle_timeout_ms = config_.http.idle_timeout_ms;
    limits.cors_origin = config_.http.cors_origin;
    limits.stream_send_buffer_bytes = config_.server.send_buffer_bytes;
    // /vod/ belongs to on-demand files (before HTTP-FLV, which would read
    // /vod/x.flv as live stream "vod/x").
    std::vector<net::HttpRoute> routes = {servers::make_api_route(*p.hub)};
    // Each VOD root is a route with its own directory and settings; the
    // parsed-index caches are shared (one budget).
    auto vod_caches = std::make_shared<vod::VodCaches>(vod::VodSettings{}.index_cache_bytes);
    if (!config_.vod.root.empty()) {
      auto route = vod::make_vod_route(vod_settings(config_.vod, "/vod/", config_.vod.root),
                                       vod_caches);
      if (!route) return make_error("vod.root: {}", route.error().message);
      routes.push_back(std::move(route.value()));
    }
    for (size_t i = 0; i < config_.vod.roots.size(); ++i) {
      const Config::VodRoot& root = config_.vod.roots[i];
      auto route =
          vod::make_vod_route(vod_settings(root.settings, root.prefix, root.path), vod_caches);
      if (!route) {
        return make_error("vod.roots[{}] ({}): {}", i, root.prefix, route.error().message);
      }
      routes.push_back(std::move(route.value()));
    }
    routes.push_back(
        servers::make_http_flv_route(*p.hub, *p.hub->find_format("flv"), *p.access));
    if (p.hls) routes.push_back(servers::make_hls_route(*p.hls, *p.access));
    routes.push_back(servers::make_web_route());
    p.http = std::make_unique<net::HttpServer>(std::move(routes), limits);
    p.http_listener = std::make_unique<net::TcpListener>(
        *p.pool, "http", [this](boost::asio::ip::tcp::socket socket, size_t worker) {
          parts_->http->serve(std::move(socket), worker);
        },
        0);  // HTTP: autotuned; live HTTP-FLV viewers bound theirs (HttpLimits)
    auto endpoint = net::parse_endpoint(config_.http.listen);
    if (!endpoint) return make_error("http.listen: {}", endpoint.error().message);
    auto bound = p.http_listener->listen(*endpoint);
    if (!bound) return bound.error();
    p.http_endpoint = *bound;
  }

  p.pool->start();
  if (p.rtmp_listener) p.rtmp_listener->start();
  if (p.http_listener) p.http_listener->start();
  log::get("server").info("started with {} workers", workers);
  if (p.rtmp_endpoint) {
    log::get("server").info("rtmp listening on {}", net::to_string(*p.rtmp_endpoint));
  }
  if (p.http_endpoint) {
    log::get("server").info("http listening on {}", net::to_string(*p.http_endpoint));
  }
  return {};
}

void Server::run_until_signal() {
  boost::asio::io_context signals_context;
  boost::asio::signal_set signals(signals_context, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code& ec, int signal) {
    if (!ec) log::get("server").info("signal {} received; stopping", signal);
  });
  signals_context.run();
  stop();
}

void Server::stop() {
  if (!parts_ || !parts_->pool) return;
  if (parts_->rtmp_listener) parts_->rtmp_listener->close();
  if (parts_->http_listener) parts_->http_listener->close();
  parts_->pool->stop(true);
  parts_->pool->join();
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

}  // namespace cascade::app
