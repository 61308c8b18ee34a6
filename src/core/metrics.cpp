#include "core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace cascade {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_micros_.fetch_add(static_cast<uint64_t>(value * 1e6), std::memory_order_relaxed);
  }
}

std::vector<uint64_t> Histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

uint64_t Histogram::count() const {
  return count_.load(std::memory_order_relaxed);
}

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

Histogram& Metrics::histogram(std::string_view name, std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  auto it = histograms_.find(name);
  if (it == histograms_.end()) {
    it = histograms_
             .emplace(std::string(name), std::make_unique<Histogram>(std::move(upper_bounds)))
             .first;
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
  for (const auto& [name, h] : histograms_) {
    out += fmt::format("# TYPE {} histogram\n", name);
    const std::vector<uint64_t> counts = h->counts();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      const std::string le = i < h->upper_bounds().size()
                                 ? fmt::format("{}", h->upper_bounds()[i])
                                 : std::string("+Inf");
      out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, le, cumulative);
    }
    out += fmt::format("{}_sum {}\n{}_count {}\n", name, h->sum(), name, cumulative);
  }
  return out;
}

}  // namespace cascade
