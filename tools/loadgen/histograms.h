// Fixed-size histograms for per-viewer statistics: no storage per frame and
// no allocation after construction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace cascade::loadgen {

// Signed millisecond values (lag drift) in log-linear buckets: exact below
// 16 ms, then 8 buckets per power of two (a bucket spans at most 12.5% of its
// values), saturating at +-2^21 ms (35 min). 1.2 KB.
class DriftHistogram {
 public:
  void add(int64_t ms);
  uint64_t count() const { return count_; }
  int64_t min() const { return min_; }
  int64_t max() const { return max_; }
  // Nearest-rank percentile (q in (0, 1]) as the bucket's midpoint, clamped
  // to the exact minimum and maximum seen; nullopt when empty.
  std::optional<int64_t> percentile(double q) const;

  static constexpr int kBuckets = 152;  // per sign
  static int bucket(uint64_t magnitude);
  static int64_t bucket_mid(int index);

 private:
  std::array<uint32_t, kBuckets> positive_{};  // values >= 0
  std::array<uint32_t, kBuckets> negative_{};  // values < 0, by magnitude
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

// Timestamp deltas between consecutive frames of one track, 0..1023 ms, to
// estimate a track's frame rate (shared by the viewers of one worker thread).
class DeltaHistogram {
 public:
  void add(int64_t delta_ms) {
    if (delta_ms > 0 && delta_ms < static_cast<int64_t>(counts_.size())) ++counts_[delta_ms];
  }
  void merge(const DeltaHistogram& other);
  uint64_t count() const;
  // The median delta refined to sub-millisecond precision: the mean of the
  // deltas within 25% of the median (so 33/34 ms alternation gives 33.3 ms).
  // nullopt when empty.
  std::optional<double> typical_ms() const;

 private:
  std::array<uint32_t, 1024> counts_{};
};

}  // namespace cascade::loadgen
