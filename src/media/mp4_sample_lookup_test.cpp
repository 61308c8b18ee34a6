// Mp4Track's per-sample lookups from the run tables (dts, offset,
// first_decoded_at_or_after, Mp4OffsetCursor) against the same values
// expanded sample by sample, on random tracks: several stts runs (zero
// deltas included), stsc runs of different chunk sizes, chunks in and out
// of file order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "media/mp4_index.h"

namespace cascade::media {
namespace {

struct Expanded {
  std::vector<int64_t> dts;
  std::vector<uint64_t> offsets;
};

Mp4Track random_track(std::mt19937& random, Expanded& expanded) {
  Mp4Track t;
  auto pick = [&](uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(random);
  };
  // Chunks: runs of chunks of the same sample count, at increasing offsets
  // with gaps, or shuffled.
  uint32_t samples = 0;
  uint64_t at = 1000;
  const uint32_t chunk_run_count = pick(1, 6);
  for (uint32_t r = 0; r < chunk_run_count; ++r) {
    const uint32_t chunks = pick(1, 5);
    const uint32_t per_chunk = pick(1, 7);
    t.chunk_runs.push_back({static_cast<uint32_t>(t.chunk_offsets.size()), samples, per_chunk, 1});
    for (uint32_t c = 0; c < chunks; ++c) {
      t.chunk_offsets.push_back(at);
      for (uint32_t s = 0; s < per_chunk; ++s) {
        const uint32_t size = pick(0, 50);
        t.sample_sizes.push_back(size);
        expanded.offsets.push_back(at);
        at += size;
      }
      samples += per_chunk;
      at += pick(0, 20);
    }
  }
  if (pick(0, 1) == 1) {  // chunks out of file order: chunk a moves far past the others
    const size_t a = pick(0, static_cast<uint32_t>(t.chunk_offsets.size() - 1));
    t.chunk_offsets[a] += 1'000'000;
    for (size_t run = 0; run < t.chunk_runs.size(); ++run) {
      const size_t run_end =
          run + 1 < t.chunk_runs.size() ? t.chunk_runs[run + 1].first_chunk : t.chunk_count();
      if (a >= t.chunk_runs[run].first_chunk && a < run_end) {
        const size_t first = t.first_sample_of_chunk(run, a);
        for (size_t s = first; s < first + t.chunk_runs[run].samples_per_chunk; ++s) {
          expanded.offsets[s] += 1'000'000;
        }
      }
    }
  }
  // stts: random runs over the samples, some with delta 0.
  uint32_t covered = 0;
  int64_t dts = 0;
  while (covered < samples) {
    const uint32_t count = std::min(samples - covered, pick(1, 9));
    const uint32_t delta = pick(0, 3) == 0 ? 0 : pick(1, 4000);
    t.stts.push_back({covered, count, delta, dts});
    for (uint32_t i = 0; i < count; ++i) {
      expanded.dts.push_back(dts);
      dts += delta;
    }
    covered += count;
  }
  t.media_duration = static_cast<uint64_t>(dts);
  return t;
}

TEST(Mp4SampleLookup, RunTablesGiveWhatTheExpandedTablesSay) {
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    Expanded expanded;
    const Mp4Track t = random_track(random, expanded);
    const size_t n = t.sample_count();
    ASSERT_EQ(expanded.dts.size(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(t.dts(i), expanded.dts[i]) << "round " << round << " sample " << i;
      ASSERT_EQ(t.offset(i), expanded.offsets[i]) << "round " << round << " sample " << i;
      const int64_t next = i + 1 < n ? expanded.dts[i + 1] : int64_t(t.media_duration);
      ASSERT_EQ(t.sample_duration(i), next - expanded.dts[i]);
    }
    for (size_t first = 0; first < n; first += 1 + first / 3) {
      Mp4OffsetCursor cursor(t, first);
      for (size_t i = first; i < n; ++i) {
        ASSERT_EQ(cursor.sample(), i);
        ASSERT_EQ(cursor.offset(), expanded.offsets[i]) << "round " << round << " from " << first;
        if (i + 1 < n) cursor.next();
      }
    }
    // first_decoded_at_or_after == lower_bound over the expanded times, from
    // any sample, at times on, between and beyond the samples'.
    std::vector<double> times = {-1.0, 0.0, double(t.media_duration) + 1};
    for (int64_t d : expanded.dts) {
      times.push_back(double(d));
      times.push_back(double(d) - 0.5);
      times.push_back(double(d) + 0.25);
    }
    for (size_t from = 0; from <= n; from += 1 + n / 5) {
      for (double time : times) {
        const auto it =
            std::lower_bound(expanded.dts.begin() + static_cast<ptrdiff_t>(std::min(from, n)),
                             expanded.dts.end(), time,
                             [](int64_t d, double limit) { return double(d) < limit; });
        const size_t expected = static_cast<size_t>(it - expanded.dts.begin());
        ASSERT_EQ(t.first_decoded_at_or_after(from, time), expected)
            << "round " << round << " from " << from << " time " << time;
      }
    }
  }
}

}  // namespace
}  // namespace cascade::media
