#include "media/mp4_clip.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

#include "core/byte_order.h"
#include "media/mp4_box_writer.h"  // box_type

namespace cascade::media {

namespace {

// Audio starts this many samples before S: the decoder's pre-roll (an AAC
// frame needs the one before it; 14496-12 8.9.4 'roll' distance -1).
constexpr size_t kAudioPreRollSamples = 1;

// Slack, in media ticks, when comparing a computed time with a sample's.
constexpr double kTickEpsilon = 1e-6;

// Clamp for times computed in double: far from int64 overflow even after a
// few additions of 2^55-tick dts values.
constexpr double kMaxTicks = 1e18;

int64_t to_ticks(double value) {
  if (!(value > -kMaxTicks)) return static_cast<int64_t>(-kMaxTicks);
  if (!(value < kMaxTicks)) return static_cast<int64_t>(kMaxTicks);
  return std::llround(value);
}

// The presentation timeline of one track (14496-12 8.6.6): media time
// media_start is shown at empty_duration (movie timescale), in seconds.
struct Timeline {
  double timescale;
  double media_start;
  double empty_s;

  Timeline(const Mp4Index& index, const Mp4Track& track)
      : timescale(track.timescale),
        media_start(static_cast<double>(track.media_start)),
        empty_s(static_cast<double>(track.empty_duration) / index.movie_timescale) {}

  double seconds(double media) const { return (media - media_start) / timescale + empty_s; }
  double media(double seconds) const { return (seconds - empty_s) * timescale + media_start; }
};

double pts(const Mp4Track& track, size_t i) {
  return static_cast<double>(track.dts(i) + track.cts_offset(i));
}

// The last position in [0, count) whose key is <= limit (keys non-decreasing),
// or count when there is none.
template <typename Key>
size_t last_at_or_before(size_t count, double limit, Key key) {
  size_t lo = 0;
  size_t hi = count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (key(mid) <= limit) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? count : lo - 1;
}

// The sample a track starts with: its last sync sample presented at or
// before `media` (a media time), or its first sync sample. `found` tells
// whether one at or before existed. Returns n when the track has no sync
// sample at all.
size_t start_sample(const Mp4Track& track, double media, bool& found) {
  const size_t n = track.sample_count();
  const double limit = media + kTickEpsilon;
  if (track.all_sync) {
    const size_t i = last_at_or_before(n, limit, [&](size_t p) { return pts(track, p); });
    found = i != n;
    return found ? i : 0;
  }
  const auto& sync = track.sync_samples;
  if (sync.empty()) return n;
  const size_t j =
      last_at_or_before(sync.size(), limit, [&](size_t p) { return pts(track, sync[p]); });
  found = j != sync.size();
  return found ? sync[j] : sync[0];
}

// The presentation time of the sample shown at media time `media`: the
// latest presented at or before it, searched from sample `key` (presented at
// or before `media`) over the samples that can be presented that early.
double shown_at(const Mp4Track& track, size_t key, double media) {
  double shown = pts(track, key);
  const double limit = media + kTickEpsilon;
  for (size_t i = key + 1; i < track.sample_count(); ++i) {
    if (static_cast<double>(track.dts(i) + track.min_cts_offset) > limit) break;
    const double p = pts(track, i);
    if (p <= limit) shown = std::max(shown, p);
  }
  return shown;
}

// One past the last sample (decoding order) presented before media time
// `end`, at least `first`: samples presented before `end` and whatever
// precedes them in decoding order (a reordered anchor frame).
size_t end_sample(const Mp4Track& track, size_t first, double end) {
  // Before lo every sample is presented before `end`; from hi on none is.
  const size_t lo = track.first_decoded_at_or_after(first, end - track.max_cts_offset);
  const size_t hi = track.first_decoded_at_or_after(first, end - track.min_cts_offset);
  size_t b = std::max(first, lo);
  for (size_t i = b; i < hi; ++i) {
    if (pts(track, i) < end) b = i + 1;
  }
  return b;
}

// Video, audio and subtitles are kept. Other tracks (QuickTime 'text',
// usually chapters, timecode, hint, metadata) make no sense cut, and the
// track references (tref) that tie them to the others are not copied.
bool clippable(const Mp4Track& track) {
  return track.kind != Mp4TrackKind::kOther || track.handler_type == box_type("sbtl") ||
         track.handler_type == box_type("subt");
}

// What one track keeps, and its new edit list.
struct TrackCut {
  const Mp4Track* track = nullptr;
  size_t first = 0;  // samples [first, end)
  size_t end = 0;
  size_t first_chunk = 0;  // chunks [first_chunk, last_chunk]
  size_t last_chunk = 0;
  uint64_t empty_edit = 0;        // movie timescale
  int64_t media_time = 0;         // new media timeline
  uint64_t segment_duration = 0;  // movie timescale
  uint64_t media_duration = 0;    // track timescale (mdhd)
  uint64_t first_offset = 0;      // of sample `first` in the original file
  uint64_t span_begin = 0;        // bytes of the original file holding the samples
  uint64_t span_end = 0;
  uint64_t offset_base = 0;  // new chunk offset = old - range_begin + head size + offset_base
  uint64_t range_begin = 0;
  // Tables (plan_tables): stts/ctts runs [first, last], stss entries
  // [sync_first, sync_end), stsc runs [first_run, last_run].
  size_t stts_first = 0, stts_last = 0;
  size_t ctts_first = 0, ctts_last = 0;
  size_t sync_first = 0, sync_end = 0;
  size_t first_run = 0, last_run = 0;
  size_t stsc_entries = 0;
  size_t chunk_table_at = 0;  // where write_stbl left room for the chunk offsets
  // The kept stsz / sdtp entries are sent from the file, not written.
  bool stsz_from_file = false;
  bool sdtp_from_file = false;

  uint64_t presentation_duration() const { return empty_edit + segment_duration; }
};

// Given cut.first and cut.end: the edit list, the chunks and the bytes they
// span. False when the track shows nothing in the clip.
bool cut_track(const Mp4Index& index, TrackCut& cut, double start_s, double end_s) {
  const Mp4Track& t = *cut.track;
  const Timeline timeline(index, t);
  const double movie_per_tick = double(index.movie_timescale) / t.timescale;
  const int64_t first_dts = t.dts(cut.first);

  // Edit list: the new media timeline starts at first_dts.
  int64_t end_media = t.presentation_end;
  if (std::isfinite(end_s)) end_media = std::min(end_media, to_ticks(timeline.media(end_s)));
  const int64_t end_new = end_media - first_dts;
  const int64_t m0 = to_ticks(timeline.media(start_s)) - first_dts;
  int64_t shown = 0;
  if (m0 >= 0) {
    cut.media_time = m0;
    shown = end_new - m0;
  } else {
    cut.empty_edit = static_cast<uint64_t>(to_ticks(-static_cast<double>(m0) * movie_per_tick));
    cut.media_time = 0;
    shown = end_new;
  }
  if (shown <= 0) return false;
  cut.segment_duration =
      static_cast<uint64_t>(std::max<int64_t>(1, to_ticks(double(shown) * movie_per_tick)));
  const int64_t last_dts =
      cut.end < t.sample_count() ? t.dts(cut.end) : static_cast<int64_t>(t.media_duration);
  cut.media_duration = static_cast<uint64_t>(last_dts - first_dts);

  // Chunks holding [first, end), and the bytes they span.
  cut.first_chunk = t.chunk_of_sample(cut.first);
  cut.last_chunk = t.chunk_of_sample(cut.end - 1);
  cut.first_offset = t.offset(cut.first);
  if (t.chunks_in_file_order) {
    cut.span_begin = cut.first_offset;
    cut.span_end = t.offset(cut.end - 1) + t.sample_sizes[cut.end - 1];
    return true;
  }
  // Chunks out of file order: each kept chunk's bytes, [its first kept
  // sample, the end of its last), in one pass over the kept samples.
  cut.span_begin = std::numeric_limits<uint64_t>::max();
  cut.span_end = 0;
  Mp4OffsetCursor cursor(t, cut.first);
  uint64_t chunk_begin = cursor.offset();
  size_t chunk = cut.first_chunk;
  size_t run = t.chunk_run_of_chunk(chunk);
  size_t chunk_end_sample = t.first_sample_of_chunk(run, chunk) + t.chunk_runs[run].samples_per_chunk;
  for (;;) {
    const size_t s = cursor.sample();
    const bool last_of_chunk = s + 1 == chunk_end_sample || s + 1 == cut.end;
    if (last_of_chunk) {
      cut.span_begin = std::min(cut.span_begin, chunk_begin);
      cut.span_end = std::max(cut.span_end, cursor.offset() + t.sample_sizes[s]);
    }
    if (s + 1 == cut.end) break;
    cursor.next();
    if (last_of_chunk) {
      ++chunk;
      if (run + 1 < t.chunk_runs.size() && t.chunk_runs[run + 1].first_chunk <= chunk) ++run;
      chunk_end_sample += t.chunk_runs[run].samples_per_chunk;
      chunk_begin = cursor.offset();
    }
  }
  return true;
}

// Writes the head into a buffer whose size was computed beforehand (one
// allocation, no copy), except for the slices of the original file's tables
// it records as pieces (from_file). Every write is bounds-checked: a size
// that does not match what is written is our bug, and fails the clip instead
// of overflowing. Box layout as Mp4BoxWriter (14496-12 4.2); box sizes count
// the file slices too.
class HeadWriter {
 public:
  // Where a box starts: in the buffer, and in the head as sent.
  struct Mark {
    size_t memory = 0;
    uint64_t head = 0;
  };

  HeadWriter(uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool ok() const { return ok_; }
  size_t memory_position() const { return memory_; }
  uint64_t head_position() const { return head_; }

  // n bytes to fill, or nullptr (and failed) if they do not fit.
  uint8_t* take(size_t n) {
    if (!ok_ || n > size_ - memory_) {
      ok_ = false;
      return nullptr;
    }
    uint8_t* p = data_ + memory_;
    memory_ += n;
    head_ += n;
    return p;
  }
  // The next `length` bytes of the head are the file's, from `offset`.
  void from_file(uint64_t offset, uint64_t length) {
    if (!ok_ || length == 0) return;
    close_memory_piece();
    pieces_.push_back({true, offset, length});
    head_ += length;
  }
  void u32(uint32_t v) {
    if (uint8_t* p = take(4)) store_u32be(p, v);
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void bytes(std::span<const uint8_t> b) {
    if (uint8_t* p = take(b.size()); p && !b.empty()) std::memcpy(p, b.data(), b.size());
  }
  Mark begin_box(uint32_t type) {
    const Mark at{memory_, head_};
    u32(0);
    u32(type);
    return at;
  }
  Mark begin_full_box(uint32_t type, uint8_t version, uint32_t flags) {
    const Mark at = begin_box(type);
    u32(uint32_t{version} << 24 | (flags & 0xFFFFFF));
    return at;
  }
  void end_box(const Mark& at) {
    if (ok_) store_u32be(data_ + at.memory, static_cast<uint32_t>(head_ - at.head));
  }
  // Patches a box copied from the index (8-byte header, see Mp4Track): its
  // duration field, 14496-12 8.2.2 mvhd / 8.4.2 mdhd at payload offset 16
  // (version 0, 32 bits) or 24 (version 1, 64 bits), 8.3.2 tkhd at 20 or 28.
  // A version 0 field too small for the value gets 0xFFFFFFFF ("unknown").
  void copy_with_duration(const std::vector<uint8_t>& box, size_t v0_at, uint64_t duration) {
    const size_t at = memory_;
    bytes(box);
    if (!ok_) return;
    uint8_t* payload = data_ + at + 8;
    if (payload[0] == 1) {
      store_u32be(payload + v0_at + 8, static_cast<uint32_t>(duration >> 32));
      store_u32be(payload + v0_at + 12, static_cast<uint32_t>(duration));
    } else {
      store_u32be(payload + v0_at, static_cast<uint32_t>(std::min<uint64_t>(duration, 0xFFFFFFFF)));
    }
  }
  // The head's pieces in order, once everything is written.
  std::vector<Mp4ClipPiece> finish() {
    close_memory_piece();
    return std::move(pieces_);
  }

 private:
  void close_memory_piece() {
    if (memory_ > piece_start_) pieces_.push_back({false, piece_start_, memory_ - piece_start_});
    piece_start_ = memory_;
  }

  uint8_t* data_;
  size_t size_;
  size_t memory_ = 0;  // bytes written to the buffer
  uint64_t head_ = 0;  // bytes of the head, file slices included
  size_t piece_start_ = 0;
  std::vector<Mp4ClipPiece> pieces_;
  bool ok_ = true;
};

constexpr size_t kMvhdDurationAt = 16;
constexpr size_t kMdhdDurationAt = 16;
constexpr size_t kTkhdDurationAt = 20;
constexpr size_t kDefaultFtypSize = 32;
constexpr size_t kDefaultDinfSize = 36;

template <typename Run>
size_t run_of(const std::vector<Run>& runs, size_t sample) {
  const auto it = std::upper_bound(runs.begin(), runs.end(), sample,
                                   [](size_t s, const Run& run) { return s < run.first_sample; });
  return static_cast<size_t>(it - runs.begin()) - 1;
}

bool large_edts(const TrackCut& cut) {
  return cut.empty_edit > 0xFFFFFFFFu || cut.segment_duration > 0xFFFFFFFFu ||
         cut.media_time > std::numeric_limits<int32_t>::max();
}

// 8.7.4 stsc entries for the kept chunks, from the runs over them: only the
// first and last chunks can lose samples to the cut, so they may need
// entries of their own. Calls emit(first_chunk, samples_per_chunk,
// description_index) per entry, first_chunk 1-based in the clip.
template <typename Emit>
void for_each_stsc_entry(const TrackCut& cut, Emit&& emit) {
  const Mp4Track& t = *cut.track;
  uint32_t last_count = 0;
  uint32_t last_description = 0;
  auto entry = [&](size_t chunk, uint32_t count, uint32_t description) {
    if (count == last_count && description == last_description) return;
    emit(static_cast<uint32_t>(chunk - cut.first_chunk + 1), count, description);
    last_count = count;
    last_description = description;
  };
  auto chunk_first_sample = [](const Mp4ChunkRun& r, size_t c) {
    return r.first_sample + (c - r.first_chunk) * r.samples_per_chunk;
  };
  const Mp4ChunkRun& first = t.chunk_runs[cut.first_run];
  const size_t s1 =
      std::min(chunk_first_sample(first, cut.first_chunk) + first.samples_per_chunk, cut.end);
  entry(cut.first_chunk, static_cast<uint32_t>(s1 - cut.first), first.description_index);
  if (cut.first_chunk == cut.last_chunk) return;
  for (size_t run = cut.first_run; run <= cut.last_run; ++run) {
    const Mp4ChunkRun& r = t.chunk_runs[run];
    const size_t run_end =
        run + 1 < t.chunk_runs.size() ? t.chunk_runs[run + 1].first_chunk : t.chunk_count();
    const size_t from = std::max<size_t>(r.first_chunk, cut.first_chunk + 1);
    if (from < std::min(run_end, cut.last_chunk)) {
      entry(from, r.samples_per_chunk, r.description_index);
    }
  }
  const Mp4ChunkRun& last = t.chunk_runs[cut.last_run];
  entry(cut.last_chunk, static_cast<uint32_t>(cut.end - chunk_first_sample(last, cut.last_chunk)),
        last.description_index);
}

// The table sizes of a cut, once its samples and chunks are known.
void plan_tables(TrackCut& cut) {
  const Mp4Track& t = *cut.track;
  cut.stts_first = run_of(t.stts, cut.first);
  cut.stts_last = run_of(t.stts, cut.end - 1);
  if (!t.ctts.empty()) {
    cut.ctts_first = run_of(t.ctts, cut.first);
    cut.ctts_last = run_of(t.ctts, cut.end - 1);
  }
  const auto lo = std::lower_bound(t.sync_samples.begin(), t.sync_samples.end(), cut.first);
  const auto hi = std::lower_bound(lo, t.sync_samples.end(), cut.end);
  cut.sync_first = static_cast<size_t>(lo - t.sync_samples.begin());
  cut.sync_end = static_cast<size_t>(hi - t.sync_samples.begin());
  cut.first_run = t.chunk_run_of_chunk(cut.first_chunk);
  cut.last_run = t.chunk_run_of_chunk(cut.last_chunk);
  cut.stsc_entries = 0;
  for_each_stsc_entry(cut, [&](uint32_t, uint32_t, uint32_t) { ++cut.stsc_entries; });
}

size_t trak_size(const TrackCut& cut, bool co64) {
  const Mp4Track& t = *cut.track;
  const size_t samples = cut.end - cut.first;
  const size_t chunks = cut.last_chunk - cut.first_chunk + 1;
  size_t stbl = 8 + t.stsd.size() + 16 + 8 * (cut.stts_last - cut.stts_first + 1) + 16 +
                12 * cut.stsc_entries + 20 + 4 * samples + 16 + (co64 ? 8 : 4) * chunks;
  if (!t.ctts.empty()) stbl += 16 + 8 * (cut.ctts_last - cut.ctts_first + 1);
  if (!t.all_sync) stbl += 16 + 4 * (cut.sync_end - cut.sync_first);
  if (!t.sdtp.empty()) stbl += 12 + samples;
  const size_t minf =
      8 + t.media_header.size() + (t.dinf.empty() ? kDefaultDinfSize : t.dinf.size()) + stbl;
  const size_t mdia = 8 + t.mdhd.size() + t.hdlr.size() + minf;
  const size_t edts = 8 + 16 + (cut.empty_edit > 0 ? 2 : 1) * (large_edts(cut) ? 20 : 12);
  return 8 + t.tkhd.size() + edts + mdia;
}

// 14496-12 8.6.6 elst: an empty edit for a track that starts after S, then
// the kept media from media_time.
void write_edts(HeadWriter& w, const TrackCut& cut) {
  const bool large = large_edts(cut);
  const HeadWriter::Mark edts = w.begin_box(box_type("edts"));
  const HeadWriter::Mark elst = w.begin_full_box(box_type("elst"), large ? 1 : 0, 0);
  w.u32(cut.empty_edit > 0 ? 2 : 1);
  auto entry = [&](uint64_t duration, int64_t media_time) {
    if (large) {
      w.u64(duration);
      w.u64(static_cast<uint64_t>(media_time));
    } else {
      w.u32(static_cast<uint32_t>(duration));
      w.u32(static_cast<uint32_t>(media_time));
    }
    w.u32(0x00010000);  // media_rate 1.0
  };
  if (cut.empty_edit > 0) entry(cut.empty_edit, -1);
  entry(cut.segment_duration, cut.media_time);
  w.end_box(elst);
  w.end_box(edts);
}

// Run tables (stts, ctts) for samples [first, end): runs [first_run, last_run].
template <typename Run, typename Value>
void write_runs(HeadWriter& w, const TrackCut& cut, const std::vector<Run>& runs, size_t first_run,
                size_t last_run, Value value) {
  w.u32(static_cast<uint32_t>(last_run - first_run + 1));
  uint8_t* p = w.take(8 * (last_run - first_run + 1));
  if (!p) return;
  for (size_t r = first_run; r <= last_run; ++r, p += 8) {
    const Run& run = runs[r];
    const size_t from = std::max<size_t>(run.first_sample, cut.first);
    const size_t to = std::min<size_t>(size_t{run.first_sample} + run.count, cut.end);
    store_u32be(p, static_cast<uint32_t>(to - from));
    store_u32be(p + 4, value(run));
  }
}

void write_stbl(HeadWriter& w, TrackCut& cut, bool co64) {
  const Mp4Track& t = *cut.track;
  const size_t samples = cut.end - cut.first;
  const HeadWriter::Mark stbl = w.begin_box(box_type("stbl"));
  w.bytes(t.stsd);

  HeadWriter::Mark box = w.begin_full_box(box_type("stts"), 0, 0);  // 8.6.1.2
  write_runs(w, cut, t.stts, cut.stts_first, cut.stts_last,
             [](const Mp4SttsRun& run) { return run.delta; });
  w.end_box(box);

  if (!t.ctts.empty()) {  // 8.6.1.3: version 1 when an offset is negative
    box = w.begin_full_box(box_type("ctts"), t.ctts_signed ? 1 : 0, 0);
    write_runs(w, cut, t.ctts, cut.ctts_first, cut.ctts_last,
               [](const Mp4CttsRun& run) { return static_cast<uint32_t>(run.offset); });
    w.end_box(box);
  }

  if (!t.all_sync) {  // 8.6.2, renumbered from 1
    box = w.begin_full_box(box_type("stss"), 0, 0);
    w.u32(static_cast<uint32_t>(cut.sync_end - cut.sync_first));
    if (uint8_t* p = w.take(4 * (cut.sync_end - cut.sync_first))) {
      for (size_t i = cut.sync_first; i < cut.sync_end; ++i, p += 4) {
        store_u32be(p, static_cast<uint32_t>(t.sync_samples[i] - cut.first + 1));
      }
    }
    w.end_box(box);
  }

  box = w.begin_full_box(box_type("stsc"), 0, 0);
  w.u32(static_cast<uint32_t>(cut.stsc_entries));
  if (uint8_t* p = w.take(12 * cut.stsc_entries)) {
    for_each_stsc_entry(cut, [&](uint32_t chunk, uint32_t count, uint32_t description) {
      store_u32be(p, chunk);
      store_u32be(p + 4, count);
      store_u32be(p + 8, description);
      p += 12;
    });
  }
  w.end_box(box);

  box = w.begin_full_box(box_type("stsz"), 0, 0);  // 8.7.3.2
  w.u32(0);                                        // sample_size: a table follows
  w.u32(static_cast<uint32_t>(samples));
  if (cut.stsz_from_file) {  // the file's own entries, unchanged
    w.from_file(t.stsz_entries_offset + 4 * uint64_t{cut.first}, 4 * uint64_t{samples});
  } else if (uint8_t* p = w.take(4 * samples)) {
    const uint32_t* sizes = t.sample_sizes.data() + cut.first;
    for (size_t i = 0; i < samples; ++i) store_u32be(p + 4 * i, sizes[i]);
  }
  w.end_box(box);

  const size_t chunks = cut.last_chunk - cut.first_chunk + 1;  // 8.7.5, filled in later
  box = w.begin_full_box(box_type(co64 ? "co64" : "stco"), 0, 0);
  w.u32(static_cast<uint32_t>(chunks));
  cut.chunk_table_at = w.memory_position();
  w.take(chunks * (co64 ? 8 : 4));
  w.end_box(box);

  if (!t.sdtp.empty()) {  // 8.6.4
    box = w.begin_full_box(box_type("sdtp"), 0, 0);
    if (cut.sdtp_from_file) {
      w.from_file(t.sdtp_entries_offset + cut.first, samples);
    } else {
      w.bytes(std::span(t.sdtp).subspan(cut.first, samples));
    }
    w.end_box(box);
  }
  w.end_box(stbl);
}

// 8.7.5: chunk offsets in the clip: `shift` added (mod 2^64) to the
// original's. The first chunk starts at the first kept sample.
void write_chunk_offsets(uint8_t* p, const TrackCut& cut, uint64_t shift, bool co64) {
  const Mp4Track& t = *cut.track;
  const uint64_t* offsets = t.chunk_offsets.data() + cut.first_chunk;
  const size_t count = cut.last_chunk - cut.first_chunk + 1;
  const uint64_t first = cut.first_offset + shift;
  if (co64) {
    store_u32be(p, static_cast<uint32_t>(first >> 32));
    store_u32be(p + 4, static_cast<uint32_t>(first));
    for (size_t c = 1; c < count; ++c) {
      const uint64_t offset = offsets[c] + shift;
      store_u32be(p + 8 * c, static_cast<uint32_t>(offset >> 32));
      store_u32be(p + 8 * c + 4, static_cast<uint32_t>(offset));
    }
    return;
  }
  store_u32be(p, static_cast<uint32_t>(first));
  for (size_t c = 1; c < count; ++c)
    store_u32be(p + 4 * c, static_cast<uint32_t>(offsets[c] + shift));
}

// The largest original chunk offset among the kept chunks.
uint64_t max_chunk_offset(const TrackCut& cut) {
  const Mp4Track& t = *cut.track;
  uint64_t max = cut.first_offset;
  if (t.chunks_in_file_order) {
    return cut.last_chunk > cut.first_chunk ? t.chunk_offsets[cut.last_chunk] : max;
  }
  for (size_t c = cut.first_chunk + 1; c <= cut.last_chunk; ++c) {
    max = std::max(max, t.chunk_offsets[c]);
  }
  return max;
}

void write_default_dinf(HeadWriter& w) {  // 8.7.2: one self-contained 'url '
  const HeadWriter::Mark dinf = w.begin_box(box_type("dinf"));
  const HeadWriter::Mark dref = w.begin_full_box(box_type("dref"), 0, 0);
  w.u32(1);
  w.end_box(w.begin_full_box(box_type("url "), 0, 1));
  w.end_box(dref);
  w.end_box(dinf);
}

void write_default_ftyp(HeadWriter& w) {  // 14496-12 4.3
  const HeadWriter::Mark ftyp = w.begin_box(box_type("ftyp"));
  w.u32(box_type("isom"));
  w.u32(0x200);
  for (uint32_t brand : {box_type("isom"), box_type("iso2"), box_type("avc1"), box_type("mp41")}) {
    w.u32(brand);
  }
  w.end_box(ftyp);
}

// The reference track: first video, else first audio, else first subtitle,
// with samples.
const Mp4Track* reference_track(const Mp4Index& index) {
  for (Mp4TrackKind kind : {Mp4TrackKind::kVideo, Mp4TrackKind::kAudio, Mp4TrackKind::kOther}) {
    for (const Mp4Track& t : index.tracks) {
      if (t.kind == kind && clippable(t) && t.sample_count() > 0) return &t;
    }
  }
  return nullptr;
}

// The byte ranges to send: each track's span, overlapping or touching spans
// merged; and where each track's span lands in the new mdat payload.
// Returns the payload size.
uint64_t merge_spans(std::vector<TrackCut>& cuts, std::vector<FileRange>& ranges) {
  std::vector<FileRange> spans;
  spans.reserve(cuts.size());
  for (const TrackCut& cut : cuts) spans.push_back({cut.span_begin, cut.span_end - cut.span_begin});
  std::sort(spans.begin(), spans.end(),
            [](const FileRange& a, const FileRange& b) { return a.offset < b.offset; });
  uint64_t media_bytes = 0;
  for (const FileRange& span : spans) {
    if (span.length == 0) continue;  // only empty samples
    if (!ranges.empty() && span.offset <= ranges.back().offset + ranges.back().length) {
      FileRange& last = ranges.back();
      const uint64_t end = std::max(last.offset + last.length, span.offset + span.length);
      media_bytes += end - (last.offset + last.length);
      last.length = end - last.offset;
    } else {
      ranges.push_back(span);
      media_bytes += span.length;
    }
  }
  for (TrackCut& cut : cuts) {
    cut.range_begin = cut.span_begin;  // an empty span: its samples go at the mdat's start
    cut.offset_base = 0;
    uint64_t out_at = 0;
    for (const FileRange& range : ranges) {
      if (cut.span_begin >= range.offset && cut.span_begin < range.offset + range.length) {
        cut.range_begin = range.offset;
        cut.offset_base = out_at;
        break;
      }
      out_at += range.length;
    }
  }
  return media_bytes;
}

// ftyp, moov, mdat header; the chunk offsets are left for later.
void write_head(HeadWriter& w, const Mp4Index& index, std::vector<TrackCut>& cuts,
                uint64_t movie_duration, uint64_t media_bytes, bool co64, bool large_mdat) {
  if (index.ftyp.empty()) {
    write_default_ftyp(w);
  } else {
    w.bytes(index.ftyp);
  }
  const HeadWriter::Mark moov = w.begin_box(box_type("moov"));
  w.copy_with_duration(index.mvhd, kMvhdDurationAt, movie_duration);
  for (TrackCut& cut : cuts) {
    const Mp4Track& t = *cut.track;
    const HeadWriter::Mark trak = w.begin_box(box_type("trak"));
    w.copy_with_duration(t.tkhd, kTkhdDurationAt, cut.presentation_duration());
    write_edts(w, cut);
    const HeadWriter::Mark mdia = w.begin_box(box_type("mdia"));
    w.copy_with_duration(t.mdhd, kMdhdDurationAt, cut.media_duration);
    w.bytes(t.hdlr);
    const HeadWriter::Mark minf = w.begin_box(box_type("minf"));
    w.bytes(t.media_header);
    if (t.dinf.empty()) {
      write_default_dinf(w);
    } else {
      w.bytes(t.dinf);
    }
    write_stbl(w, cut, co64);
    w.end_box(minf);
    w.end_box(mdia);
    w.end_box(trak);
  }
  w.end_box(moov);
  // 14496-12 4.2: a largesize when the media does not fit a 32-bit size.
  if (large_mdat) {
    w.u32(1);
    w.u32(box_type("mdat"));
    w.u64(media_bytes + 16);
  } else {
    w.u32(static_cast<uint32_t>(media_bytes + 8));
    w.u32(box_type("mdat"));
  }
}

}  // namespace

Result<Mp4Clip> build_mp4_clip(const Mp4Index& index, const Mp4ClipRequest& request) {
  if (!std::isfinite(request.start_s) || request.start_s < 0) {
    return make_error("start {} is not a time >= 0", request.start_s);
  }
  double end_s = std::numeric_limits<double>::infinity();
  if (request.end_s) {
    if (std::isnan(*request.end_s) || *request.end_s <= request.start_s) {
      return make_error("end {} is not after start {}", *request.end_s, request.start_s);
    }
    end_s = *request.end_s;
  }
  if (index.fragmented) return make_error("fragmented MP4 cannot be clipped");
  if (index.movie_timescale == 0 || index.mvhd.empty()) return make_error("index without mvhd");

  const Mp4Track* reference = reference_track(index);
  if (!reference) return make_error("no video, audio or subtitle track with samples");

  // The clip's start S, from the reference track's sync sample.
  const Timeline ref_timeline(index, *reference);
  if (request.start_s >= ref_timeline.seconds(double(reference->presentation_end))) {
    return make_error("start {} is at or past the end ({:.3f} s)", request.start_s,
                      ref_timeline.seconds(double(reference->presentation_end)));
  }
  bool found = false;
  const size_t key = start_sample(*reference, ref_timeline.media(request.start_s), found);
  if (key == reference->sample_count()) return make_error("the reference track has no sync sample");
  double start_s = ref_timeline.seconds(pts(*reference, key));
  if (request.exact_start) {
    start_s =
        reference->kind == Mp4TrackKind::kVideo
            ? ref_timeline.seconds(shown_at(*reference, key, ref_timeline.media(request.start_s)))
            : request.start_s;
  }

  std::vector<TrackCut> cuts;
  cuts.reserve(index.tracks.size());
  for (const Mp4Track& t : index.tracks) {
    if (!clippable(t) || t.sample_count() == 0) continue;
    const Timeline timeline(index, t);
    TrackCut cut;
    cut.track = &t;
    if (&t == reference) {
      cut.first = key;
    } else {
      cut.first = start_sample(t, timeline.media(start_s), found);
      if (cut.first == t.sample_count()) continue;  // no sync sample
    }
    if (t.kind == Mp4TrackKind::kAudio && found) {
      cut.first -= std::min(cut.first, kAudioPreRollSamples);
    }
    cut.end =
        std::isfinite(end_s) ? end_sample(t, cut.first, timeline.media(end_s)) : t.sample_count();
    if (cut.end <= cut.first || !cut_track(index, cut, start_s, end_s)) {
      if (&t == reference) return make_error("no sample of the reference track in the clip");
      continue;
    }
    cuts.push_back(cut);
  }

  Mp4Clip clip;
  const uint64_t media_bytes = merge_spans(cuts, clip.ranges);

  uint64_t movie_duration = 0;
  for (TrackCut& cut : cuts) {
    movie_duration = std::max(movie_duration, cut.presentation_duration());
    plan_tables(cut);
  }

  // Sizes, then co64 if a chunk offset would pass 4 GiB with stco.
  const size_t ftyp_size = index.ftyp.empty() ? kDefaultFtypSize : index.ftyp.size();
  const size_t mdat_header_size = media_bytes + 8 > 0xFFFFFFFFu ? 16 : 8;
  auto head_size = [&](bool co64) {
    size_t size = ftyp_size + 8 + index.mvhd.size() + mdat_header_size;
    for (const TrackCut& cut : cuts) size += trak_size(cut, co64);
    return size;
  };
  bool co64 = false;
  const size_t stco_head_size = head_size(false);
  for (const TrackCut& cut : cuts) {
    const uint64_t shift = stco_head_size + cut.offset_base - cut.range_begin;
    if (max_chunk_offset(cut) + shift > 0xFFFFFFFFu) co64 = true;
  }
  const size_t size = head_size(co64);
  if (size - mdat_header_size - ftyp_size > 0xFFFFFFFFu) return make_error("moov too large");
  // What comes from the file instead of the buffer.
  size_t from_file = 0;
  for (TrackCut& cut : cuts) {
    const size_t samples = cut.end - cut.first;
    const Mp4Track& t = *cut.track;
    cut.stsz_from_file =
        t.stsz_entries_offset != 0 && 4 * uint64_t{samples} >= request.min_table_from_file;
    cut.sdtp_from_file = !t.sdtp.empty() && t.sdtp_entries_offset != 0 &&
                         uint64_t{samples} >= request.min_table_from_file;
    if (cut.stsz_from_file) from_file += 4 * samples;
    if (cut.sdtp_from_file) from_file += samples;
  }

  MutableBytes head(size - from_file);
  HeadWriter w(head.data(), size - from_file);
  write_head(w, index, cuts, movie_duration, media_bytes, co64, mdat_header_size == 16);
  if (!w.ok() || w.head_position() != size || w.memory_position() != size - from_file) {
    assert(false && "clip head size mismatch");
    return make_error("internal error: clip head size mismatch");
  }
  for (const TrackCut& cut : cuts) {
    write_chunk_offsets(head.data() + cut.chunk_table_at, cut,
                        size + cut.offset_base - cut.range_begin, co64);
  }
  head.resize(size - from_file);
  clip.head = std::move(head).freeze();
  clip.head_pieces = w.finish();
  clip.head_size = size;
  clip.total_size = size + media_bytes;
  clip.start_s = start_s;
  clip.end_s = start_s + static_cast<double>(movie_duration) / index.movie_timescale;
  return clip;
}

}  // namespace cascade::media
