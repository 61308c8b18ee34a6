#include "vod/throttle.h"

#include <algorithm>
#include <cmath>

namespace cascade::vod {

TokenBucket::TokenBucket(double rate_bytes_per_s, double capacity_bytes, Clock::time_point now)
    : rate_(std::max(1.0, rate_bytes_per_s)),
      min_grant_(static_cast<uint64_t>(std::clamp(rate_ / 10, 1024.0, 1024.0 * 1024.0))),
      capacity_(std::max(capacity_bytes, static_cast<double>(min_grant_))),
      tokens_(capacity_),
      last_refill_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_refill_) return;
  const double elapsed_s = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed_s * rate_);
  last_refill_ = now;
}

TokenBucket::Grant TokenBucket::grant(uint64_t want, Clock::time_point now) {
  refill(now);
  const double threshold = static_cast<double>(std::min(want, min_grant_));
  if (tokens_ >= threshold) {
    const auto whole = static_cast<uint64_t>(std::floor(tokens_));
    return {std::min(want, whole), std::chrono::nanoseconds(0)};
  }
  // Until the threshold is reached; rounded up and at least 1 ms so a wake-up
  // never finds the bucket a rounding error short.
  const double wait_s = (threshold - tokens_) / rate_;
  const auto wait = std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(wait_s * 1e9)));
  return {0, std::max<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(1))};
}

TokenBucket make_media_pacer(uint64_t bitrate_bits_per_s, double factor, double burst_s,
                             TokenBucket::Clock::time_point now) {
  const double media_bytes_per_s = static_cast<double>(bitrate_bits_per_s) / 8;
  return TokenBucket(media_bytes_per_s * factor, media_bytes_per_s * burst_s, now);
}

}  // namespace cascade::vod
