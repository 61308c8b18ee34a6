#include "app/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "net/endpoint.h"

namespace cascade::app {
namespace {

struct Field {
  std::string key;  // "section.name"
  std::function<Status(const toml::node&, Config&)> apply;
  std::function<std::string(const Config&)> render;  // as a TOML value
};

std::string quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}


template <typename Section>
Field number(std::string key, Section Config::*section, uint32_t Section::*member, uint64_t min,
             uint64_t max) {
  return {key, [=](const toml::node& node, Config& config) -> Status {
            auto value = node.value<int64_t>();
            if (!node.is_integer() || !value) return make_error("{}: expected an integer", key);
            if (*value < 0 || static_cast<uint64_t>(*value) < min ||
                static_cast<uint64_t>(*value) > max) {
              return make_error("{}: {} is out of range [{}, {}]", key, *value, min, max);
            }
            config.*section.*member = static_cast<uint32_t>(*value);
            return {};
          },
          [=](const Config& config) { return std::to_string(config.*section.*member); }};
}

template <typename Section>
Field boolean(std::string key, Section Config::*section, bool Section::*member) {
  return {key, [=](const toml::node& node, Config& config) -> Status {
            if (!node.is_boolean()) return make_error("{}: expected true or false", key);
            config.*section.*member = *node.value<bool>();
            return {};
          },
          [=](const Config& config) {
            return std::string(config.*section.*member ? "true" : "false");
          }};
}

template <typename Section>
Field text(std::string key, Section Config::*section, std::string Section::*member,
           std::function<Status(const std::string&)> check = {}) {
  return {key, [=](const toml::node& node, Config& config) -> Status {
            if (!node.is_string()) return make_error("{}: expected a string", key);
            std::string value = *node.value<std::string>();
            if (check) {
              if (auto status = check(value); !status) {
                return make_error("{}: {}", key, status.error().message);
              }
            }
            config.*section.*member = std::move(value);
            return {};
          },
          [=](const Config& config) { return quote(config.*section.*member); }};
}

Status check_endpoint(const std::string& value) {
  auto endpoint = net::parse_endpoint(value);
  if (!endpoint) return endpoint.error();
  return {};
}

Status check_log_level(const std::string& value) {
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error",
                                            "critical", "off"};
  if (!levels.count(value)) {
    return make_error("'{}' is not one of trace, debug, info, warn, error, critical, off", value);
  }
  return {};
}

const std::vector<Field>& fields() {
  using C = Config;
  static const std::vector<Field> all = {
      number("server.workers", &C::server, &C::Server::workers, 0, 256),
      text("server.log_level", &C::server, &C::Server::log_level, check_log_level),
      number("server.send_buffer_bytes", &C::server, &C::Server::send_buffer_bytes, 0, 64 << 20),

      boolean("rtmp.enabled", &C::rtmp, &C::Rtmp::enabled),
      text("rtmp.listen", &C::rtmp, &C::Rtmp::listen, check_endpoint),
      number("rtmp.chunk_size", &C::rtmp, &C::Rtmp::chunk_size, 128, 65536),
      number("rtmp.max_message_size", &C::rtmp, &C::Rtmp::max_message_size, 65536, 0xFFFFFF),
      number("rtmp.window_ack_size", &C::rtmp, &C::Rtmp::window_ack_size, 4096, 0x7FFFFFFF),
      number("rtmp.peer_bandwidth", &C::rtmp, &C::Rtmp::peer_bandwidth, 4096, 0x7FFFFFFF),
      number("rtmp.handshake_timeout_ms", &C::rtmp, &C::Rtmp::handshake_timeout_ms, 100, 600'000),
      number("rtmp.publisher_idle_timeout_ms", &C::rtmp, &C::Rtmp::publisher_idle_timeout_ms,
             1000, 3'600'000),

      boolean("http.enabled", &C::http, &C::Http::enabled),
      text("http.listen", &C::http, &C::Http::listen, check_endpoint),
      text("http.cors_origin", &C::http, &C::Http::cors_origin),
      number("http.max_header_bytes", &C::http, &C::Http::max_header_bytes, 1024, 1 << 20),
      number("http.request_timeout_ms", &C::http, &C::Http::request_timeout_ms, 100, 600'000),
      number("http.idle_timeout_ms", &C::http, &C::Http::idle_timeout_ms, 100, 3'600'000),

      number("live.publish_grace_ms", &C::live, &C::Live::publish_grace_ms, 0, 600'000),
      boolean("live.gop_cache", &C::live, &C::Live::gop_cache),
      number("live.gop_cache_max_mib", &C::live, &C::Live::gop_cache_max_mib, 1, 4096),
      number("live.lag_skip_ms", &C::live, &C::Live::lag_skip_ms, 100, 600'000),
      number("live.lag_close_ms", &C::live, &C::Live::lag_close_ms, 200, 3'600'000),
      number("live.coalesce_ms", &C::live, &C::Live::coalesce_ms, 0, 1000),
      boolean("hls.enabled", &C::hls, &C::Hls::enabled),
      number("hls.segment_target_ms", &C::hls, &C::Hls::segment_target_ms, 1000, 30'000),
      number("hls.part_target_ms", &C::hls, &C::Hls::part_target_ms, 100, 5'000),
      number("hls.window_segments", &C::hls, &C::Hls::window_segments, 3, 1000),
      boolean("hls.low_latency", &C::hls, &C::Hls::low_latency),
      number("hls.dvr_window_s", &C::hls, &C::Hls::dvr_window_s, 0, 7 * 24 * 3600),
      number("hls.dvr_max_mib", &C::hls, &C::Hls::dvr_max_mib, 1, 1 << 20),
      number("hls.linger_ms", &C::hls, &C::Hls::linger_ms, 0, 3'600'000),
      text("vod.root", &C::vod, &C::Vod::root),
      number("vod.stall_timeout_ms", &C::vod, &C::Vod::stall_timeout_ms, 1000, 3'600'000),
      number("vod.cache_max_age_s", &C::vod, &C::Vod::cache_max_age_s, 0, 31'536'000),
  };
  return all;
}

Status validate(const Config& config) {
  if (config.hls.part_target_ms * 2 > config.hls.segment_target_ms) {
    return make_error("hls.part_target_ms ({}) must be at most half of hls.segment_target_ms ({})",
                      config.hls.part_target_ms, config.hls.segment_target_ms);
  }
  if (config.live.lag_close_ms <= config.live.lag_skip_ms) {
    return make_error("live.lag_close_ms ({}) must be greater than live.lag_skip_ms ({})",
                      config.live.lag_close_ms, config.live.lag_skip_ms);
  }
  if (config.rtmp.chunk_size > config.rtmp.max_message_size) {
    return make_error("rtmp.chunk_size ({}) must not exceed rtmp.max_message_size ({})",
                      config.rtmp.chunk_size, config.rtmp.max_message_size);
  }
  if (!config.rtmp.enabled && !config.http.enabled) {
    return make_error("rtmp.enabled and http.enabled are both false: nothing to serve");
  }
  return {};
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  return keys;
}

std::string to_toml(const Config& config) {
  std::string out;
  std::string section;
  for (const Field& f : fields()) {
    auto dot = f.key.find('.');
    if (f.key.substr(0, dot) != section) {
      section = f.key.substr(0, dot);
      out += (out.empty() ? "[" : "\n[") + section + "]\n";
    }
    out += f.key.substr(dot + 1) + " = " + f.render(config) + "\n";
  }
  return out;
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return make_error("{}:{}:{}: {}", source, where.line, where.column, e.description());
  }
  Config config;
  std::set<std::string> known;
  for (const Field& f : fields()) known.insert(f.key);
  for (const auto& [section_name, section] : table) {
    const toml::table* entries = section.as_table();
    if (!entries) return make_error("{}: '{}' is not a [section]", source, section_name.str());
    for (const auto& [name, node] : *entries) {
      std::string key = std::string(section_name.str()) + "." + std::string(name.str());
      if (!known.count(key)) return make_error("{}: unknown key '{}'", source, key);
    }
  }
  for (const Field& f : fields()) {
    auto dot = f.key.find('.');
    const toml::node* node =
        table.at_path(toml::path(f.key.substr(0, dot)) + toml::path(f.key.substr(dot + 1))).node();
    if (!node) continue;
    if (auto status = f.apply(*node, config); !status) {
      return make_error("{}: {}", source, status.error().message);
    }
  }
  if (auto status = validate(config); !status) {
    return make_error("{}: {}", source, status.error().message);
  }
  return config;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read config file {}", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace cascade::app
