#include "app/config_diff.h"

#include <toml++/toml.h>

#include <array>
#include <map>
#include <sstream>
#include <string_view>

namespace cascade::app {
namespace {

// Keys (or whole sections, "live.") that a reload cannot apply:
// - listeners and workers exist once per process;
// - the RTMP packager's chunk size is shared by every viewer of a stream
//   (ARCHITECTURE.md: RTMP play bytes are shareable because it is fixed);
// - the hub (live.*, and its limits.max_publishers/max_streams) and the HLS
//   subscriber factory are built once at start;
// - the connection gate's limits hold for the tickets it has issued;
// - TLS listeners and their files (a reload re-reads the same files).
constexpr std::array<std::string_view, 18> kRestartOnly = {"server.workers",
                                                           "server.send_buffer_bytes",
                                                           "server.io_threads",
                                                           "rtmp.enabled",
                                                           "rtmp.listen",
                                                           "rtmp.chunk_size",
                                                           "http.enabled",
                                                           "http.listen",
                                                           "hls.enabled",
                                                           "live.",
                                                           "admin.listen",
                                                           "limits.max_connections",
                                                           "limits.max_connections_per_ip",
                                                           "limits.accept_rate_per_ip",
                                                           "limits.accept_burst_per_ip",
                                                           "limits.max_publishers",
                                                           "limits.max_streams"};

// Every key's value, rendered as TOML text, from the config's own TOML form
// (to_toml), so any key added to the field table is compared too.
std::map<std::string, std::string> values(const Config& config) {
  std::map<std::string, std::string> out;
  toml::table table = toml::parse(to_toml(config));
  for (const auto& [section, entries] : table) {
    const toml::table* keys = entries.as_table();
    if (!keys) continue;
    for (const auto& [name, node] : *keys) {
      std::ostringstream text;
      node.visit([&text](const auto& value) { text << value; });
      out[std::string(section.str()) + "." + std::string(name.str())] = text.str();
    }
  }
  return out;
}

}  // namespace

bool needs_restart(const std::string& key) {
  for (std::string_view entry : kRestartOnly) {
    if (entry.ends_with('.') ? key.starts_with(entry) : key == entry) return true;
  }
  return false;
}

ConfigDiff diff_config(const Config& running, const Config& next) {
  ConfigDiff diff;
  const auto before = values(running);
  const auto after = values(next);
  for (const std::string& key : config_keys()) {
    auto a = before.find(key);
    auto b = after.find(key);
    const bool same = a != before.end() && b != after.end() && a->second == b->second;
    if (same) continue;
    diff.changed.push_back(key);
    if (needs_restart(key)) diff.needs_restart.push_back(key);
  }
  return diff;
}

Config keep_restart_settings(const Config& running, Config next) {
  next.server.workers = running.server.workers;
  next.server.send_buffer_bytes = running.server.send_buffer_bytes;
  next.server.io_threads = running.server.io_threads;
  next.rtmp.enabled = running.rtmp.enabled;
  next.rtmp.listen = running.rtmp.listen;
  next.rtmp.chunk_size = running.rtmp.chunk_size;
  next.http.enabled = running.http.enabled;
  next.http.listen = running.http.listen;
  next.hls.enabled = running.hls.enabled;
  next.live = running.live;
  next.admin.listen = running.admin.listen;
  const uint32_t setup_timeout_ms = next.limits.rtmp_setup_timeout_ms;  // reloadable
  next.limits = running.limits;
  next.limits.rtmp_setup_timeout_ms = setup_timeout_ms;
  next.tls = running.tls;
  return next;
}

}  // namespace cascade::app
