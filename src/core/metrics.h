// Process-wide metrics: counters and gauges identified by a Prometheus-style
// name with optional labels, e.g. `cascade_viewer_closed_total{reason="lag"}`.
//
// Contract: registering (counter()/gauge()) takes a lock and returns a
// reference that stays valid for the process lifetime; hold it and update it
// lock-free (relaxed atomics). Update per event (a GOP skip, a close, a
// viewer's write), never per packet per viewer.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cascade {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(int64_t n) { value_.store(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A distribution in fixed buckets (Prometheus histogram): observe() adds a
// value to the first bucket whose upper bound holds it (the last is +Inf).
// Lock-free (relaxed atomics), one increment per observation.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations per bucket (not cumulative); the last is +Inf.
  std::vector<uint64_t> counts() const;
  double sum() const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum in millionths (values >= 0)
};

class Metrics {
 public:
  static Metrics& global();

  Counter& counter(std::string_view name);
  Gauge& gauge(std::string_view name);
  // A histogram `name` (no labels) with these bucket upper bounds; the
  // bounds of the first registration win.
  Histogram& histogram(std::string_view name, std::vector<double> upper_bounds);

  // A snapshot of every metric, sorted by name.
  std::map<std::string, int64_t> snapshot() const;
  // Prometheus text exposition format (version 0.0.4).
  std::string render_prometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>, std::less<>> gauges_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms_;
};

}  // namespace cascade
