// TokenBucket: paces one response's body (VOD throttling). Tokens are bytes;
// they accrue at `rate` bytes per second up to `capacity` (the burst), and
// the bucket starts full, so a player gets `capacity` bytes at once and then
// `rate` bytes per second. Sending may overdraw the bucket (a clip's head is
// written whole); the debt is repaid before anything more is granted.
//
// Time is passed in, never read here, so tests drive it with a fake clock.
// One bucket per response; not thread-safe (it lives on the response's
// worker). Tiny on purpose: rate, capacity, tokens and the last refill.
#pragma once

#include <chrono>
#include <cstdint>

namespace cascade::vod {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate_bytes_per_s` is raised to at least 1; `capacity_bytes` to at least
  // the smallest grant (below), so waiting always ends in a grant.
  TokenBucket(double rate_bytes_per_s, double capacity_bytes, Clock::time_point now);

  // What may be sent now for a send of `want` (> 0) bytes: `bytes` > 0 to
  // send at most that many now, or 0 and how long to `wait` before asking
  // again. Grants are at least min(want, min_grant_bytes()) so the sender
  // wakes up about ten times a second at most, never once per byte.
  struct Grant {
    uint64_t bytes = 0;
    std::chrono::nanoseconds wait{0};
  };
  Grant grant(uint64_t want, Clock::time_point now);

  // Takes `bytes` that were sent (may overdraw).
  void consume(uint64_t bytes) { tokens_ -= static_cast<double>(bytes); }

  double rate_bytes_per_s() const { return rate_; }
  double capacity_bytes() const { return capacity_; }
  // 100 ms worth of rate, within [1 KiB, 1 MiB].
  uint64_t min_grant_bytes() const { return min_grant_; }

 private:
  void refill(Clock::time_point now);

  double rate_;
  uint64_t min_grant_;
  double capacity_;
  double tokens_;
  Clock::time_point last_refill_;
};

// A bucket pacing a file of `bitrate_bits_per_s` at `factor` times its
// bitrate after `burst_s` seconds of media sent at once.
// Preconditions: bitrate > 0, factor > 0, burst_s >= 0.
TokenBucket make_media_pacer(uint64_t bitrate_bits_per_s, double factor, double burst_s,
                             TokenBucket::Clock::time_point now);

}  // namespace cascade::vod
