// What a config reload changes: the keys whose values differ, and which of
// them cannot change without a restart (listen addresses, worker count,
// settings the running hub and packagers were built with). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "app/config.h"

namespace cascade::app {

struct ConfigDiff {
  std::vector<std::string> changed;        // "section.key", in config_keys() order
  std::vector<std::string> needs_restart;  // the subset of `changed` a reload cannot apply
  bool empty() const { return changed.empty(); }
};

// True for a key ("section.key") whose new value applies only after a restart.
bool needs_restart(const std::string& key);

ConfigDiff diff_config(const Config& running, const Config& next);

// `next` with every restart-only setting set back to `running`'s: what a
// reload actually applies.
Config keep_restart_settings(const Config& running, Config next);

}  // namespace cascade::app
