// Cascade's configuration: typed structs with defaults in code, loaded from
// TOML and validated at load (ARCHITECTURE.md, "Config"). conf/cascade.toml
// documents every key; a test checks it matches these structs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cascade::app {

struct Config {
  struct Server {
    uint32_t workers = 0;  // 0: one per core
    std::string log_level = "info";
    // Kernel send buffer per connection (SO_SNDBUF; 0 = the kernel's
    // autotuning). Bounds memory with many slow viewers.
    uint32_t send_buffer_bytes = 262'144;
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

  struct Vod {
    std::string root;  // empty: no VOD
    uint32_t stall_timeout_ms = 30'000;
    uint32_t cache_max_age_s = 3600;
    bool operator==(const Vod&) const = default;
  } vod;

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

}  // namespace cascade::app
