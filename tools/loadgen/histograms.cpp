#include "loadgen/histograms.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cascade::loadgen {

int DriftHistogram::bucket(uint64_t magnitude) {
  constexpr uint64_t kMax = (uint64_t{1} << 21) - 1;
  if (magnitude > kMax) magnitude = kMax;
  if (magnitude < 16) return static_cast<int>(magnitude);
  int e = std::bit_width(magnitude) - 1;  // 4..20
  int sub = static_cast<int>((magnitude >> (e - 3)) & 7);
  return 16 + (e - 4) * 8 + sub;
}

int64_t DriftHistogram::bucket_mid(int index) {
  if (index < 16) return index;
  int e = (index - 16) / 8 + 4;
  int sub = (index - 16) % 8;
  int64_t width = int64_t{1} << (e - 3);
  int64_t low = (int64_t{1} << e) + sub * width;
  return low + (width - 1) / 2;
}

void DriftHistogram::add(int64_t ms) {
  min_ = count_ == 0 ? ms : std::min(min_, ms);
  max_ = count_ == 0 ? ms : std::max(max_, ms);
  if (ms >= 0) {
    ++positive_[bucket(static_cast<uint64_t>(ms))];
  } else {
    ++negative_[bucket(static_cast<uint64_t>(-ms))];
  }
  ++count_;
}

std::optional<int64_t> DriftHistogram::percentile(double q) const {
  if (count_ == 0) return std::nullopt;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  if (rank >= count_) return max_;
  if (rank == 1) return min_;
  uint64_t seen = 0;
  for (int i = kBuckets - 1; i >= 1; --i) {
    seen += negative_[i];
    if (seen >= rank) return std::clamp<int64_t>(-bucket_mid(i), min_, max_);
  }
  for (int i = 0; i < kBuckets; ++i) {
    seen += positive_[i];
    if (seen >= rank) return std::clamp<int64_t>(bucket_mid(i), min_, max_);
  }
  return max_;
}

void DeltaHistogram::merge(const DeltaHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

uint64_t DeltaHistogram::count() const {
  uint64_t n = 0;
  for (uint32_t c : counts_) n += c;
  return n;
}

std::optional<double> DeltaHistogram::typical_ms() const {
  uint64_t n = count();
  if (n == 0) return std::nullopt;
  uint64_t half = (n + 1) / 2, seen = 0;
  size_t median = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= half) {
      median = i;
      break;
    }
  }
  double sum = 0, weight = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    double d = static_cast<double>(i);
    if (counts_[i] &&
        std::abs(d - static_cast<double>(median)) <= 0.25 * static_cast<double>(median)) {
      sum += d * counts_[i];
      weight += counts_[i];
    }
  }
  return weight > 0 ? sum / weight : static_cast<double>(median);
}

}  // namespace cascade::loadgen
