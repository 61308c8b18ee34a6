// Time units. Media timestamps are milliseconds on a stream's normalized
// timeline (fixed once, at ingest); wall/steady clocks are for timers only.
#pragma once

#include <chrono>
#include <cstdint>

namespace cascade {

// Milliseconds on a stream's normalized media timeline (64-bit: never wraps).
using MediaTimeMs = int64_t;

using SteadyClock = std::chrono::steady_clock;

inline int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

inline int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

}  // namespace cascade
