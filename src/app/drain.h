// Drain: the state of a graceful shutdown (SIGTERM/SIGINT or the admin
// API). Once begun it stays begun; the composition root (server.cpp) closes
// the listeners, watches SessionCounts and exits when every session has
// ended or the deadline has passed.
//
// Thread safety: any thread (a mutex, taken per call; calls are per signal,
// per admin request and once per progress tick).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "core/session_counts.h"

namespace cascade::app {

struct DrainProgress {
  bool draining = false;
  std::string reason;        // "signal 15", "admin API"
  int64_t elapsed_ms = 0;    // since the drain began
  int64_t remaining_ms = 0;  // to the deadline, >= 0
  uint32_t timeout_s = 0;
};

class DrainState {
 public:
  // Begins draining at `now_ms` with a deadline `timeout_s` later. False if
  // already draining (the first drain's deadline stands).
  bool begin(int64_t now_ms, uint32_t timeout_s, std::string reason);
  bool draining() const;
  bool deadline_passed(int64_t now_ms) const;
  DrainProgress progress(int64_t now_ms) const;

 private:
  mutable std::mutex mutex_;
  bool draining_ = false;
  std::string reason_;
  int64_t started_ms_ = 0;
  uint32_t timeout_s_ = 0;
};

// "3 sessions left (rtmp_publisher 1, rtmp_viewer 2)": the kinds with open
// sessions only; "no sessions left" when none.
std::string describe_sessions(const SessionTotals& totals);

}  // namespace cascade::app
