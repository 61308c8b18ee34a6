// Mp4Track's per-sample lookups from its run tables (mp4_index.h): decoding
// times from the stts runs, file offsets from the chunks, without a
// per-sample table of either.
#include <algorithm>
#include <cmath>

#include "media/mp4_index.h"  // declares what this file defines

namespace cascade::media {

Mp4Sample Mp4Track::sample(size_t i) const {
  return {offset(i), sample_sizes[i], dts(i), cts_offset(i), is_sync(i)};
}

namespace {

// The stts run holding sample i (i < sample count).
const Mp4SttsRun& stts_run_of(const std::vector<Mp4SttsRun>& runs, size_t i) {
  const auto it = std::upper_bound(runs.begin(), runs.end(), i,
                                   [](size_t s, const Mp4SttsRun& run) { return s < run.first_sample; });
  return *(it - 1);
}

}  // namespace

int64_t Mp4Track::dts(size_t i) const {
  const Mp4SttsRun& run = stts_run_of(stts, i);
  return run.first_dts + static_cast<int64_t>(i - run.first_sample) * run.delta;
}

int64_t Mp4Track::sample_duration(size_t i) const {
  return stts_run_of(stts, i).delta;
}

size_t Mp4Track::first_decoded_at_or_after(size_t from, double time) const {
  const size_t n = sample_count();
  if (from >= n) return n;
  // The first run whose last sample is decoded at or after `time`; decoding
  // times never decrease (deltas are unsigned), so runs are ordered too.
  auto run_end_dts = [](const Mp4SttsRun& run) {
    return run.first_dts + static_cast<int64_t>(run.count - 1) * run.delta;
  };
  auto it = std::partition_point(stts.begin(), stts.end(), [&](const Mp4SttsRun& run) {
    return static_cast<double>(run_end_dts(run)) < time;
  });
  if (it == stts.end()) return n;
  size_t i = it->first_sample;
  if (it->delta > 0 && static_cast<double>(it->first_dts) < time) {
    const double steps = std::ceil((time - static_cast<double>(it->first_dts)) / it->delta);
    i += std::min<size_t>(static_cast<size_t>(steps), it->count - 1);
    // Rounding: step back while the one before still qualifies, forward
    // while this one does not.
    while (i > it->first_sample && static_cast<double>(dts(i - 1)) >= time) --i;
    while (i + 1 < size_t{it->first_sample} + it->count && static_cast<double>(dts(i)) < time) ++i;
  }
  return std::max(i, from);
}

uint64_t Mp4Track::offset(size_t i) const {
  const size_t run = chunk_run_of_sample(i);
  const Mp4ChunkRun& r = chunk_runs[run];
  const size_t chunk = r.first_chunk + (i - r.first_sample) / r.samples_per_chunk;
  uint64_t at = chunk_offsets[chunk];
  for (size_t s = first_sample_of_chunk(run, chunk); s < i; ++s) at += sample_sizes[s];
  return at;
}

Mp4OffsetCursor::Mp4OffsetCursor(const Mp4Track& track, size_t first)
    : track_(track), sample_(first) {
  run_ = track.chunk_run_of_sample(first);
  const Mp4ChunkRun& r = track.chunk_runs[run_];
  chunk_ = r.first_chunk + (first - r.first_sample) / r.samples_per_chunk;
  next_chunk_first_ = track.first_sample_of_chunk(run_, chunk_) + r.samples_per_chunk;
  offset_ = track.offset(first);
}

void Mp4OffsetCursor::next() {
  ++sample_;
  if (sample_ < next_chunk_first_) {
    offset_ += track_.sample_sizes[sample_ - 1];
    return;
  }
  ++chunk_;
  if (run_ + 1 < track_.chunk_runs.size() && track_.chunk_runs[run_ + 1].first_chunk <= chunk_) {
    ++run_;
  }
  next_chunk_first_ += track_.chunk_runs[run_].samples_per_chunk;
  offset_ = chunk_ < track_.chunk_offsets.size() ? track_.chunk_offsets[chunk_] : 0;
}

size_t Mp4Track::chunk_run_of_chunk(size_t chunk) const {
  const auto it =
      std::upper_bound(chunk_runs.begin(), chunk_runs.end(), chunk,
                       [](size_t c, const Mp4ChunkRun& run) { return c < run.first_chunk; });
  return static_cast<size_t>(it - chunk_runs.begin()) - 1;
}

size_t Mp4Track::chunk_run_of_sample(size_t sample) const {
  const auto it =
      std::upper_bound(chunk_runs.begin(), chunk_runs.end(), sample,
                       [](size_t s, const Mp4ChunkRun& run) { return s < run.first_sample; });
  return static_cast<size_t>(it - chunk_runs.begin()) - 1;
}

size_t Mp4Track::chunk_of_sample(size_t sample) const {
  const Mp4ChunkRun& run = chunk_runs[chunk_run_of_sample(sample)];
  return run.first_chunk + (sample - run.first_sample) / run.samples_per_chunk;
}

bool Mp4Track::is_sync(size_t i) const {
  return all_sync || std::binary_search(sync_samples.begin(), sync_samples.end(), i);
}

}  // namespace cascade::media
