// Cascade's configuration: typed structs with defaults in code, loaded from
// TOML and validated at load (ARCHITECTURE.md, "Config"). conf/cascade.toml
// documents every key; a test checks it matches these structs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cascade::app {

struct Config {
  struct Server {
    uint32_t workers = 0;  // 0: one per core
    std::string log_level = "info";
    // Kernel send buffer per live viewer connection, RTMP and HTTP-FLV
    // (SO_SNDBUF; 0 = the kernel's autotuning). Bounds memory with many slow
    // viewers. Other HTTP responses (files, HLS) keep the autotuning.
    uint32_t send_buffer_bytes = 262'144;
    // Threads for blocking work (net/io_pool.h): reading and parsing VOD
    // files' indexes, reading HLS-from-MP4 segments. 0: done on the workers.
    uint32_t io_threads = 2;
    bool operator==(const Server&) const = default;
  } server;

  struct Rtmp {
    bool enabled = true;
    std::string listen = "0.0.0.0:1935";
    uint32_t chunk_size = 4096;
    uint32_t max_message_size = 8 * 1024 * 1024;
    uint32_t window_ack_size = 2'500'000;
    uint32_t peer_bandwidth = 2'500'000;
    uint32_t handshake_timeout_ms = 10'000;
    uint32_t publisher_idle_timeout_ms = 30'000;
    bool operator==(const Rtmp&) const = default;
  } rtmp;

  struct Http {
    bool enabled = true;
    std::string listen = "0.0.0.0:8080";
    std::string cors_origin = "*";
    uint32_t max_header_bytes = 8192;
    uint32_t request_timeout_ms = 10'000;
    uint32_t idle_timeout_ms = 30'000;
    bool operator==(const Http&) const = default;
  } http;

  struct Live {
    uint32_t publish_grace_ms = 5'000;
    bool gop_cache = true;
    uint32_t gop_cache_max_mib = 64;
    uint32_t lag_skip_ms = 3'000;
    uint32_t lag_close_ms = 10'000;
    uint32_t coalesce_ms = 40;
    bool operator==(const Live&) const = default;
  } live;

  struct Hls {
    bool enabled = true;
    uint32_t segment_target_ms = 2'000;
    uint32_t part_target_ms = 333;
    uint32_t window_segments = 10;
    bool low_latency = true;
    uint32_t dvr_window_s = 0;  // 0: no DVR playlists
    uint32_t dvr_max_mib = 512;
    uint32_t linger_ms = 30'000;
    bool operator==(const Hls&) const = default;
  } hls;

  // What each VOD root may set for itself: [vod] sets them for every root,
  // and a [[vod.roots]] entry may override any of them.
  struct VodRootSettings {
    uint32_t stall_timeout_ms = 30'000;
    uint32_t cache_max_age_s = 3600;
    uint32_t hls_segment_s = 6;  // HLS from MP4 files: the segment duration aimed at
    bool list_directories = false;
    bool throttle = true;
    uint32_t throttle_burst_s = 5;
    double throttle_factor = 1.5;
    std::string throttle_secret;           // empty: no signed rate overrides
    std::string flv_start_unit = "bytes";  // FLV ?start=: "bytes" (offset) or "seconds"
    bool operator==(const VodRootSettings&) const = default;
  };
  // One [[vod.roots]] entry: the files under `path` at URL prefix `prefix`.
  struct VodRoot {
    std::string prefix;  // "/name/", see parse_config for the rules
    std::string path;
    // [vod]'s settings with the entry's own keys applied, resolved at load.
    VodRootSettings settings;
    bool operator==(const VodRoot&) const = default;
  };
  struct Vod : VodRootSettings {
    std::string root;  // served under /vod/; empty: none
    std::vector<VodRoot> roots;
    bool operator==(const Vod&) const = default;
  } vod;

  // Connection and resource limits (0 = unlimited), and the RTMP setup
  // deadline; see conf/cascade.toml [limits].
  struct Limits {
    uint32_t max_connections = 0;             // open, all listeners together
    uint32_t max_connections_per_ip = 0;      // open, per client IP (IPv6: per /64)
    uint32_t accept_rate_per_ip = 0;          // new connections per second per IP
    uint32_t accept_burst_per_ip = 0;         // 0: accept_rate_per_ip
    uint32_t max_publishers = 0;              // streams being published
    uint32_t max_streams = 0;                 // live streams, in grace included
    uint32_t rtmp_setup_timeout_ms = 60'000;  // 0: none
    bool operator==(const Limits&) const = default;
  } limits;

  // Graceful shutdown on SIGTERM/SIGINT or POST /api/v1/admin/drain.
  struct Drain {
    uint32_t timeout_s = 30;  // live sessions still open then are closed
    bool operator==(const Drain&) const = default;
  } drain;

  // Operator endpoints (/api/v1/admin/...): reload, drain, kick, stats.
  struct Admin {
    std::string token;   // Authorization: Bearer <token>; empty: denied (403)
    std::string listen;  // own listener ADDR:PORT; empty: on the HTTP listener
    bool operator==(const Admin&) const = default;
  } admin;
  // TLS listeners (RTMPS, HTTPS) beside the plain ones, same services.
  struct Tls {
    std::string cert_file;     // PEM chain, leaf first; empty: no TLS listeners
    std::string key_file;      // PEM private key (unencrypted)
    std::string rtmps_listen;  // e.g. "0.0.0.0:443"; empty: no RTMPS
    std::string https_listen;  // e.g. "0.0.0.0:8443"; empty: no HTTPS
    bool operator==(const Tls&) const = default;
  } tls;
  // Access control for publish and play (src/access; README "Access
  // control"). Defaults: everything open, no webhooks.
  struct Access {
    // App -> stream keys; an app not listed takes publishers without a key.
    std::map<std::string, std::vector<std::string>, std::less<>> publish_keys;
    std::string play_secret;  // HMAC key for signed play URLs; empty: play is open
    bool play_require_signature = true;
    std::string on_connect, on_publish, on_play, on_done;  // http:// webhook URLs
    uint32_t webhook_timeout_ms = 2'000;
    uint32_t webhook_cache_ttl_ms = 10'000;
    uint32_t webhook_cache_entries = 10'000;
    bool operator==(const Access&) const = default;
  } access;

  bool operator==(const Config&) const = default;
};

// Parses TOML text. Errors name the key and the problem; unknown keys are
// errors (a typo must not silently fall back to a default).
Result<Config> parse_config(std::string_view toml_text, std::string_view source);
Result<Config> load_config_file(const std::string& path);

// The config as TOML, every key included.
std::string to_toml(const Config& config);

// Every key the config accepts, as "section.key", in declaration order.
std::vector<std::string> config_keys();

// Every key a [[vod.roots]] entry accepts: prefix, path and the per-root
// settings (Config::VodRootSettings), in declaration order.
std::vector<std::string> vod_root_keys();

}  // namespace cascade::app
