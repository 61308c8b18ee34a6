// Per-component loggers on spdlog. Session context goes in the message prefix:
//   log::get("rtmp").info("[{}] publish {}", session_context, key);
// No per-packet logs: data-path events are counted in metrics instead.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace cascade::log {

// Sets the level for every component ("trace".."off"); returns false if the
// name is unknown.
bool set_level(std::string_view level);

// The logger for a component, created on first use. Thread-safe.
spdlog::logger& get(std::string_view component);

}  // namespace cascade::log
