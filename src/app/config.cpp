#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

#include "access/webhook.h"
#include "net/endpoint.h"
#include "net/tls_context.h"

namespace cascade::app {
namespace {

// One key. apply's and check's errors say what is wrong with the value;
// the caller names the key.
struct Field {
  std::string key;  // "section.name"
  std::function<Status(const toml::node&, Config&)> apply;
  std::function<std::string(const Config&)> render;  // as a TOML value
  // A Config::VodRootSettings member: [[vod.roots]] entries may set it too.
  bool per_root = false;
  // apply's errors already say where (vod.roots names the entry).
  bool errors_name_the_place = false;
};

// Members of a section or of a struct it derives from (Config::Vod from
// Config::VodRootSettings).
template <typename Section, typename Owner>
constexpr bool kMemberOf = std::is_base_of_v<Owner, Section>;
template <typename Owner>
constexpr bool kPerRoot = std::is_same_v<Owner, Config::VodRootSettings>;

// A TOML basic string (TOML 1.0 "String"): quotes, backslashes and control
// characters escaped, so any value renders back to itself.
std::string quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\u{:04X}", byte);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

template <typename Section, typename Owner>
Field number(std::string key, Section Config::*section, uint32_t Owner::*member, uint64_t min,
             uint64_t max) {
  static_assert(kMemberOf<Section, Owner>);
  return {key,
          [=](const toml::node& node, Config& config) -> Status {
            auto value = node.value<int64_t>();
            if (!node.is_integer() || !value) return make_error("expected an integer");
            if (*value < 0 || static_cast<uint64_t>(*value) < min ||
                static_cast<uint64_t>(*value) > max) {
              return make_error("{} is out of range [{}, {}]", *value, min, max);
            }
            config.*section.*member = static_cast<uint32_t>(*value);
            return {};
          },
          [=](const Config& config) { return std::to_string(config.*section.*member); },
          kPerRoot<Owner>};
}

// A number with a fraction (1.5); integers are accepted too.
template <typename Section, typename Owner>
Field decimal(std::string key, Section Config::*section, double Owner::*member, double min,
              double max) {
  static_assert(kMemberOf<Section, Owner>);
  return {key,
          [=](const toml::node& node, Config& config) -> Status {
            auto value = node.value<double>();
            if (!(node.is_floating_point() || node.is_integer()) || !value) {
              return make_error("expected a number");
            }
            if (!std::isfinite(*value) || *value < min || *value > max) {
              return make_error("{} is out of range [{}, {}]", *value, min, max);
            }
            config.*section.*member = *value;
            return {};
          },
          [=](const Config& config) { return fmt::format("{}", config.*section.*member); },
          kPerRoot<Owner>};
}

template <typename Section, typename Owner>
Field boolean(std::string key, Section Config::*section, bool Owner::*member) {
  static_assert(kMemberOf<Section, Owner>);
  return {
      key,
      [=](const toml::node& node, Config& config) -> Status {
        if (!node.is_boolean()) return make_error("expected true or false");
        config.*section.*member = *node.value<bool>();
        return {};
      },
      [=](const Config& config) { return std::string(config.*section.*member ? "true" : "false"); },
      kPerRoot<Owner>};
}

template <typename Section, typename Owner>
Field text(std::string key, Section Config::*section, std::string Owner::*member,
           std::function<Status(const std::string&)> check = {}) {
  static_assert(kMemberOf<Section, Owner>);
  return {key,
          [=](const toml::node& node, Config& config) -> Status {
            if (!node.is_string()) return make_error("expected a string");
            std::string value = *node.value<std::string>();
            if (check) {
              if (auto status = check(value); !status) return status;
            }
            config.*section.*member = std::move(value);
            return {};
          },
          [=](const Config& config) { return quote(config.*section.*member); }, kPerRoot<Owner>};
}

Status check_endpoint(const std::string& value) {
  auto endpoint = net::parse_endpoint(value);
  if (!endpoint) return endpoint.error();
  return {};
}

Status check_optional_endpoint(const std::string& value) {
  if (value.empty()) return {};
  return check_endpoint(value);
}

// [tls]: listeners need a certificate and key; a certificate and key that
// are set must load (readable, PEM, matching), so a bad pair stops the
// server at startup (and is rejected by a reload) with the reason.
Status validate_tls(const Config& config) {
  const Config::Tls& tls = config.tls;
  const bool listens = !tls.rtmps_listen.empty() || !tls.https_listen.empty();
  if (!listens && tls.cert_file.empty() && tls.key_file.empty()) return {};
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return make_error("tls: {} needs both tls.cert_file and tls.key_file",
                      listens ? "a TLS listener" : "a certificate");
  }
  if (!tls.rtmps_listen.empty() && !config.rtmp.enabled) {
    return make_error("tls.rtmps_listen is set but rtmp.enabled is false");
  }
  if (!tls.https_listen.empty() && !config.http.enabled) {
    return make_error("tls.https_listen is set but http.enabled is false");
  }
  auto context = net::make_server_tls_context(tls.cert_file, tls.key_file);
  if (!context) return make_error("tls: {}", context.error().message);
  return {};
}

Status check_throttle_secret(const std::string& value) {
  if (!value.empty() && value.size() < 16) {
    return make_error("at least 16 characters (an HMAC key), or empty for no overrides");
  }
  return {};
}

Status check_vod_root_path(const std::string& value) {
  if (value.empty()) return make_error("must name a directory");
  return {};
}

// A [[vod.roots]] URL prefix: "/a/" or "/a/b/", segments of RFC 3986
// unreserved characters (matched against the raw request path, so nothing
// that could be percent-encoded), none "." or "..".
Status check_vod_prefix(const std::string& value) {
  if (value.size() < 3 || value.size() > 256 || value.front() != '/' || value.back() != '/') {
    return make_error("'{}' must start and end with '/' and name at least one segment", value);
  }
  size_t start = 1;
  while (start < value.size()) {
    const size_t slash = value.find('/', start);
    const std::string_view segment(value.data() + start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return make_error("'{}' has an empty, '.' or '..' segment", value);
    }
    for (char c : segment) {
      const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                              c == '~';
      if (!unreserved) {
        return make_error("'{}' may hold only letters, digits and -._~ between slashes", value);
      }
    }
    start = slash + 1;
  }
  return {};
}

Status check_flv_start_unit(const std::string& value) {
  if (value != "bytes" && value != "seconds") {
    return make_error("'{}' is not one of bytes, seconds", value);
  }
  return {};
}

Status check_log_level(const std::string& value) {
  static const std::set<std::string> levels{"trace", "debug",    "info", "warn",
                                            "error", "critical", "off"};
  if (!levels.count(value)) {
    return make_error("'{}' is not one of trace, debug, info, warn, error, critical, off", value);
  }
  return {};
}

// [admin]: a token is a secret, so a short one is refused; an empty one
// denies the admin endpoints.
Status check_admin_token(const std::string& value) {
  if (!value.empty() && value.size() < 16) {
    return make_error("at least 16 characters, or empty to deny the admin endpoints");
  }
  return {};
}

// [access] ----------------------------------------------------------------

Status check_play_secret(const std::string& value) {
  if (!value.empty() && value.size() < 16) {
    return make_error("at least 16 characters (an HMAC key), or empty for open play");
  }
  return {};
}

Status check_webhook_url(const std::string& value) {
  if (value.empty()) return {};
  auto url = access::parse_webhook_url(value);
  if (!url) return url.error();
  return {};
}

// access.publish_keys: a table of app = ["key", ...].
Field publish_keys_field() {
  return {"access.publish_keys",
          [](const toml::node& node, Config& config) -> Status {
            const toml::table* apps = node.as_table();
            if (!apps) return make_error("expected a table of app = [\"key\", ...]");
            config.access.publish_keys.clear();
            for (const auto& [app_key, keys_node] : *apps) {
              const std::string app(app_key.str());
              const toml::array* keys = keys_node.as_array();
              if (app.empty() || !keys || keys->empty()) {
                return make_error("app '{}': expected a non-empty array of key strings", app);
              }
              auto& out = config.access.publish_keys[app];
              for (const toml::node& key : *keys) {
                if (!key.is_string() || key.value<std::string>()->empty()) {
                  return make_error("app '{}': every key must be a non-empty string", app);
                }
                out.push_back(*key.value<std::string>());
              }
            }
            return {};
          },
          [](const Config& config) {
            std::string out = "{";
            for (const auto& [app, keys] : config.access.publish_keys) {
              out += (out.size() > 1 ? ", " : " ") + quote(app) + " = [";
              for (size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + quote(keys[i]);
              out += "]";
            }
            return out + (out.size() > 1 ? " }" : "}");
          }};
}

const std::vector<Field>& fields();

// The per-root settings: the [vod] fields on Config::VodRootSettings, named
// without "vod.". Each is applied to, and rendered from, a scratch Config
// whose [vod] holds the root's settings, so [vod] and [[vod.roots]] share
// one definition (type, range, checks) per key.
struct PerRootField {
  std::string name;
  const Field* field;
};
const std::vector<PerRootField>& per_root_fields() {
  static const std::vector<PerRootField> all = [] {
    std::vector<PerRootField> out;
    for (const Field& f : fields()) {
      if (f.per_root) out.push_back({f.key.substr(f.key.find('.') + 1), &f});
    }
    return out;
  }();
  return all;
}

std::string describe_root(size_t index, const std::string& prefix) {
  if (prefix.empty()) return fmt::format("vod.roots[{}]", index);
  return fmt::format("vod.roots[{}] ({})", index, prefix);
}

Result<Config::VodRoot> parse_vod_root(const toml::node& node, size_t index,
                                       const Config::VodRootSettings& defaults) {
  const toml::table* entry = node.as_table();
  if (!entry) return make_error("{}: expected a table ([[vod.roots]])", describe_root(index, ""));
  Config::VodRoot root;
  if (const toml::node* prefix = entry->get("prefix"); prefix && prefix->is_string()) {
    root.prefix = *prefix->value<std::string>();
  }
  const std::string where = describe_root(index, root.prefix);
  Config scratch;
  static_cast<Config::VodRootSettings&>(scratch.vod) = defaults;
  for (const auto& [name_key, value] : *entry) {
    const std::string name(name_key.str());
    Status applied;
    if (name == "prefix" || name == "path") {
      if (!value.is_string()) {
        applied = make_error("expected a string");
      } else {
        std::string text = *value.value<std::string>();
        applied = name == "prefix" ? check_vod_prefix(text) : check_vod_root_path(text);
        if (name == "path") root.path = std::move(text);
      }
    } else {
      auto known = std::find_if(per_root_fields().begin(), per_root_fields().end(),
                                [&](const PerRootField& f) { return f.name == name; });
      if (known == per_root_fields().end()) return make_error("{}: unknown key '{}'", where, name);
      applied = known->field->apply(value, scratch);
    }
    if (!applied) return make_error("{}: {}: {}", where, name, applied.error().message);
  }
  if (root.prefix.empty()) return make_error("{}: missing key 'prefix'", where);
  if (root.path.empty()) return make_error("{}: missing key 'path'", where);
  root.settings = scratch.vod;
  return root;
}

std::string render_vod_root(const Config::VodRoot& root) {
  Config scratch;
  static_cast<Config::VodRootSettings&>(scratch.vod) = root.settings;
  std::string out = "{ prefix = " + quote(root.prefix) + ", path = " + quote(root.path);
  for (const PerRootField& f : per_root_fields()) {
    out += ", " + f.name + " = " + f.field->render(scratch);
  }
  return out + " }";
}

// vod.roots: an array of tables ([[vod.roots]] entries, or inline tables).
// Each entry's own checks are here; those across entries in validate().
Field vod_roots_field() {
  return {"vod.roots",
          [](const toml::node& node, Config& config) -> Status {
            const toml::array* entries = node.as_array();
            if (!entries) {
              return make_error("vod.roots: expected an array of tables ([[vod.roots]])");
            }
            config.vod.roots.clear();
            for (size_t i = 0; i < entries->size(); ++i) {
              auto root = parse_vod_root(*entries->get(i), i, config.vod);
              if (!root) return root.error();
              config.vod.roots.push_back(std::move(root.value()));
            }
            return {};
          },
          [](const Config& config) {
            if (config.vod.roots.empty()) return std::string("[]");
            std::string out = "[\n";
            for (const Config::VodRoot& root : config.vod.roots) {
              out += "  " + render_vod_root(root) + ",\n";
            }
            return out + "]";
          },
          false, true};
}

const std::vector<Field>& fields() {
  using C = Config;
  static const std::vector<Field> all = {
      number("server.workers", &C::server, &C::Server::workers, 0, 256),
      text("server.log_level", &C::server, &C::Server::log_level, check_log_level),
      number("server.send_buffer_bytes", &C::server, &C::Server::send_buffer_bytes, 0, 64 << 20),
      number("server.io_threads", &C::server, &C::Server::io_threads, 0, 64),

      boolean("rtmp.enabled", &C::rtmp, &C::Rtmp::enabled),
      text("rtmp.listen", &C::rtmp, &C::Rtmp::listen, check_endpoint),
      number("rtmp.chunk_size", &C::rtmp, &C::Rtmp::chunk_size, 128, 65536),
      number("rtmp.max_message_size", &C::rtmp, &C::Rtmp::max_message_size, 65536, 0xFFFFFF),
      number("rtmp.window_ack_size", &C::rtmp, &C::Rtmp::window_ack_size, 4096, 0x7FFFFFFF),
      number("rtmp.peer_bandwidth", &C::rtmp, &C::Rtmp::peer_bandwidth, 4096, 0x7FFFFFFF),
      number("rtmp.handshake_timeout_ms", &C::rtmp, &C::Rtmp::handshake_timeout_ms, 100, 600'000),
      number("rtmp.publisher_idle_timeout_ms", &C::rtmp, &C::Rtmp::publisher_idle_timeout_ms, 1000,
             3'600'000),

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
      number("vod.hls_segment_s", &C::vod, &C::Vod::hls_segment_s, 1, 60),
      boolean("vod.list_directories", &C::vod, &C::Vod::list_directories),
      boolean("vod.throttle", &C::vod, &C::Vod::throttle),
      number("vod.throttle_burst_s", &C::vod, &C::Vod::throttle_burst_s, 0, 3600),
      decimal("vod.throttle_factor", &C::vod, &C::Vod::throttle_factor, 1.0, 100.0),
      text("vod.throttle_secret", &C::vod, &C::Vod::throttle_secret, check_throttle_secret),
      text("vod.flv_start_unit", &C::vod, &C::Vod::flv_start_unit, check_flv_start_unit),
      vod_roots_field(),  // last of [vod]: entries start from the keys above

      number("limits.max_connections", &C::limits, &C::Limits::max_connections, 0, 10'000'000),
      number("limits.max_connections_per_ip", &C::limits, &C::Limits::max_connections_per_ip, 0,
             10'000'000),
      number("limits.accept_rate_per_ip", &C::limits, &C::Limits::accept_rate_per_ip, 0, 100'000),
      number("limits.accept_burst_per_ip", &C::limits, &C::Limits::accept_burst_per_ip, 0,
             1'000'000),
      number("limits.max_publishers", &C::limits, &C::Limits::max_publishers, 0, 1'000'000),
      number("limits.max_streams", &C::limits, &C::Limits::max_streams, 0, 1'000'000),
      number("limits.rtmp_setup_timeout_ms", &C::limits, &C::Limits::rtmp_setup_timeout_ms, 0,
             3'600'000),
      number("drain.timeout_s", &C::drain, &C::Drain::timeout_s, 0, 24 * 3600),
      text("admin.token", &C::admin, &C::Admin::token, check_admin_token),
      text("admin.listen", &C::admin, &C::Admin::listen, check_optional_endpoint),
      text("tls.cert_file", &C::tls, &C::Tls::cert_file),
      text("tls.key_file", &C::tls, &C::Tls::key_file),
      text("tls.rtmps_listen", &C::tls, &C::Tls::rtmps_listen, check_optional_endpoint),
      text("tls.https_listen", &C::tls, &C::Tls::https_listen, check_optional_endpoint),
      publish_keys_field(),
      text("access.play_secret", &C::access, &C::Access::play_secret, check_play_secret),
      boolean("access.play_require_signature", &C::access, &C::Access::play_require_signature),
      text("access.on_connect", &C::access, &C::Access::on_connect, check_webhook_url),
      text("access.on_publish", &C::access, &C::Access::on_publish, check_webhook_url),
      text("access.on_play", &C::access, &C::Access::on_play, check_webhook_url),
      text("access.on_done", &C::access, &C::Access::on_done, check_webhook_url),
      number("access.webhook_timeout_ms", &C::access, &C::Access::webhook_timeout_ms, 100, 60'000),
      number("access.webhook_cache_ttl_ms", &C::access, &C::Access::webhook_cache_ttl_ms, 0,
             86'400'000),
      number("access.webhook_cache_entries", &C::access, &C::Access::webhook_cache_entries, 0,
             10'000'000),
  };
  return all;
}

// Every VOD prefix routes alone: none repeats, none lies inside another
// (routes are tried in order), none takes a path Cascade serves itself, and
// /vod/ is vod.root's when that is set.
Status validate_vod_prefixes(const Config& config) {
  static constexpr std::array<std::string_view, 5> kReserved = {"/api/", "/watch/", "/static/",
                                                                "/metrics/", "/healthz/"};
  std::vector<std::string> taken;
  if (!config.vod.root.empty()) taken.push_back("/vod/");
  for (size_t i = 0; i < config.vod.roots.size(); ++i) {
    const std::string& prefix = config.vod.roots[i].prefix;
    const std::string where = describe_root(i, prefix);
    if (auto valid = check_vod_prefix(prefix); !valid) {
      return make_error("{}: prefix: {}", where, valid.error().message);
    }
    for (std::string_view reserved : kReserved) {
      if (prefix.starts_with(reserved)) {
        return make_error("{}: prefix {} is taken by Cascade's own {} routes", where, prefix,
                          reserved);
      }
    }
    for (const std::string& other : taken) {
      if (prefix == other) {
        return make_error("{}: duplicate prefix {}{}", where, prefix,
                          other == "/vod/" && !config.vod.root.empty() ? " (vod.root's)" : "");
      }
      if (prefix.starts_with(other) || other.starts_with(prefix)) {
        return make_error("{}: prefixes {} and {} overlap", where, other, prefix);
      }
    }
    taken.push_back(prefix);
  }
  return {};
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
  if (config.limits.accept_burst_per_ip > 0 && config.limits.accept_rate_per_ip == 0) {
    return make_error("limits.accept_burst_per_ip ({}) needs limits.accept_rate_per_ip",
                      config.limits.accept_burst_per_ip);
  }
  if (!config.rtmp.enabled && !config.http.enabled) {
    return make_error("rtmp.enabled and http.enabled are both false: nothing to serve");
  }
  if (auto tls = validate_tls(config); !tls) return tls;
  return validate_vod_prefixes(config);
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  return keys;
}

std::vector<std::string> vod_root_keys() {
  std::vector<std::string> keys = {"prefix", "path"};
  for (const PerRootField& f : per_root_fields()) keys.push_back(f.name);
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
      if (f.errors_name_the_place) return make_error("{}: {}", source, status.error().message);
      return make_error("{}: {}: {}", source, f.key, status.error().message);
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
