#include "core/metrics.h"

#include <fmt/format.h>

#include <set>

namespace cascade {

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

Counter& Metrics::counter(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    it = counters_.emplace(std::string(name), std::make_unique<Counter>()).first;
  }
  return *it->second;
}

Gauge& Metrics::gauge(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = gauges_.find(name);
  if (it == gauges_.end()) {
    it = gauges_.emplace(std::string(name), std::make_unique<Gauge>()).first;
  }
  return *it->second;
}

std::map<std::string, int64_t> Metrics::snapshot() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, int64_t> out;
  for (const auto& [name, c] : counters_) out[name] = static_cast<int64_t>(c->value());
  for (const auto& [name, g] : gauges_) out[name] = g->value();
  return out;
}

std::string Metrics::render_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  std::set<std::string> typed;
  auto family = [](const std::string& name) { return name.substr(0, name.find('{')); };
  for (const auto& [name, c] : counters_) {
    if (typed.insert(family(name)).second) out += fmt::format("# TYPE {} counter\n", family(name));
    out += fmt::format("{} {}\n", name, c->value());
  }
  for (const auto& [name, g] : gauges_) {
    if (typed.insert(family(name)).second) out += fmt::format("# TYPE {} gauge\n", family(name));
    out += fmt::format("{} {}\n", name, g->value());
  }
  return out;
}

}  // namespace cascade
