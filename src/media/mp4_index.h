// Mp4Index: the sample index of a progressive (non-fragmented) MP4 file,
// parsed from its moov box (ISO/IEC 14496-12), for time seek and clipping
// (mp4_clip.h) and for cutting segments on demand.
//
// Untrusted input. Every parser here treats the file as hostile (the nginx
// mp4 module's CVE class): sample tables that disagree with each other, huge
// entry counts, box sizes that are too small, too large or loop, truncation.
// Each is a clear Error, never a crash, and memory is bounded by Mp4Limits,
// checked before anything is allocated.
//
// No I/O: the file is reached through Mp4Source, which the caller implements
// (a pread on the I/O pool, vod/fd_source.h, or a buffer in tests and the
// fuzzer).
//
// Thread-safety: the functions are reentrant; an Mp4Index is immutable after
// parsing and may be shared between threads (the vod index cache does so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"

namespace cascade::media {

// Bounds on what a file may make us allocate or loop over. Memory for an
// index is 4 bytes per sample (5 with sdtp, 9 with ctts) plus the run
// tables (24 bytes per stts run, 12 per ctts run, 8 per chunk, 16 per stsc
// run), so the defaults cap one index at a few hundred MB; the vod layer can
// lower them per root.
struct Mp4Limits {
  uint64_t max_moov_size = 64 * 1024 * 1024;
  uint32_t max_samples_per_track = 10'000'000;  // at most 2^31 (int64 dts stays exact)
  uint64_t max_total_samples = 20'000'000;
  uint32_t max_tracks = 64;
  uint32_t max_edits_per_track = 1024;
  uint32_t max_top_level_boxes = 10'000;
};

// ---------------------------------------------------------------------------
// Top-level layout.

// Reads the file. read_at fills as much of `out` as the file has at `offset`
// and returns the byte count (short only at end of file); an Error is an I/O
// failure. Called from one thread at a time.
class Mp4Source {
 public:
  virtual ~Mp4Source() = default;
  virtual Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) = 0;
  virtual uint64_t size() const = 0;
};

// An Mp4Source over bytes in memory (tests, fuzzing, small files).
class Mp4MemorySource final : public Mp4Source {
 public:
  explicit Mp4MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override;
  uint64_t size() const override { return bytes_.size(); }

 private:
  std::span<const uint8_t> bytes_;
};

// One box in the file: [offset, offset + size) including its header.
struct Mp4BoxRange {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t header_size = 0;  // 8, or 16 with a 64-bit largesize
  uint64_t payload_offset() const { return offset + header_size; }
  uint64_t end() const { return offset + size; }
};

struct Mp4Layout {
  uint64_t file_size = 0;
  std::optional<Mp4BoxRange> ftyp;
  std::optional<Mp4BoxRange> moov;
  std::vector<Mp4BoxRange> mdats;
  // A moof was found (14496-12 8.8.4): samples live in movie fragments, which
  // this index does not describe; the server serves such files by byte
  // ranges only. Scanning stops at the first moof.
  bool fragmented = false;
  // moov before the first mdat ("faststart").
  bool moov_first() const { return moov && (mdats.empty() || moov->offset < mdats[0].offset); }
};

// 14496-12 4.2: walks the top-level boxes. A size of 0 runs to the end of the
// file, 1 means a 64-bit largesize follows the type; a size smaller than its
// header or running past the end of the file is an error, as are two moovs,
// two ftyps, or more than limits.max_top_level_boxes boxes.
Result<Mp4Layout> scan_mp4(Mp4Source& source, const Mp4Limits& limits = {});

// ---------------------------------------------------------------------------
// The index.

enum class Mp4TrackKind : uint8_t { kVideo, kAudio, kOther };

// One sample, as assembled from the sample tables. Times are in the track's
// media timescale; presentation (composition) time = dts + cts_offset.
struct Mp4Sample {
  uint64_t offset = 0;  // in the file
  uint32_t size = 0;
  int64_t dts = 0;
  int32_t cts_offset = 0;
  bool sync = false;
};

// 14496-12 8.6.1.2 stts: `count` samples from `first_sample` (0-based) last
// `delta` each; the first of them is decoded at `first_dts`.
struct Mp4SttsRun {
  uint32_t first_sample = 0;
  uint32_t count = 0;
  uint32_t delta = 0;
  int64_t first_dts = 0;
};

// 14496-12 8.6.1.3 ctts: `count` samples from `first_sample` have
// composition offset `offset` (signed: version 1, or a negative version 0
// value as FFmpeg reads it).
struct Mp4CttsRun {
  uint32_t first_sample = 0;
  uint32_t count = 0;
  int32_t offset = 0;
};

// 14496-12 8.7.4 stsc, resolved: chunks from `first_chunk` (0-based) up to
// the next run's hold `samples_per_chunk` samples each, the first of them
// sample `first_sample` (0-based). Every run has at least one chunk.
struct Mp4ChunkRun {
  uint32_t first_chunk = 0;
  uint32_t first_sample = 0;
  uint32_t samples_per_chunk = 0;
  uint32_t description_index = 0;  // 1-based stsd entry
};

// 14496-12 8.6.6 elst entry.
struct Mp4Edit {
  uint64_t segment_duration = 0;  // movie timescale
  int64_t media_time = 0;         // track timescale; -1 = empty edit
  int32_t media_rate = 0x10000;   // 16.16 fixed point
};

struct Mp4Track {
  uint32_t track_id = 0;
  Mp4TrackKind kind = Mp4TrackKind::kOther;
  uint32_t handler_type = 0;  // hdlr handler_type, e.g. box_type("vide")
  uint32_t timescale = 0;     // mdhd
  uint64_t duration = 0;      // mdhd, track timescale
  uint16_t language = 0;      // mdhd, ISO-639-2/T packed (5 bits per letter)
  uint32_t width = 0;         // tkhd, integer pixels
  uint32_t height = 0;

  std::vector<Mp4Edit> edits;
  // The first non-empty edit (14496-12 8.6.6): presentation time
  // empty_duration (movie timescale, the leading empty edits) shows media
  // time media_start. Without an edit list both are 0. Only this first edit
  // is honoured when clipping; later edits and media rates are not.
  int64_t media_start = 0;
  uint64_t empty_duration = 0;

  // Whole boxes, always with a plain 8-byte header (size 0 and largesize
  // headers are rewritten), copied into a clip's moov: tkhd and mdhd get
  // their durations patched, the rest are copied verbatim. dinf and
  // media_header may be empty (absent).
  std::vector<uint8_t> tkhd, mdhd, hdlr, media_header /* vmhd/smhd/nmhd/… */, dinf, stsd;
  uint32_t description_count = 0;  // stsd entry_count

  // The samples. Only what the run tables cannot give cheaply is kept per
  // sample (structure of arrays): decoding times come from the stts runs
  // (dts()) and file offsets from the chunks (offset()), which keeps a
  // two-hour file's index at a third of the memory, and parsing it (mostly
  // the kernel handing out fresh pages) at about half the time.
  // sample(i) assembles one.
  std::vector<uint32_t> sample_sizes;
  std::vector<int32_t> sample_cts_offsets;  // empty when the track has no ctts
  // Where the file holds this track's stsz entries (8.7.3.2: 32-bit sizes,
  // sample_size 0) and sdtp entries (8.6.4), when the index was read from
  // the file (read_mp4_index): a clip sends its slice of them straight from
  // the file instead of writing them out. 0: not known (parsed from memory),
  // or not a plain table (a constant size, stz2).
  uint64_t stsz_entries_offset = 0;
  uint64_t sdtp_entries_offset = 0;
  std::vector<uint8_t> sdtp;                // 8.6.4, one byte per sample; empty if absent
  // stss (8.6.2) as 0-based sample numbers, increasing; all_sync when the box
  // is absent (every sample is a sync sample).
  std::vector<uint32_t> sync_samples;
  bool all_sync = true;

  // The tables in run form, for fast clipping.
  std::vector<Mp4SttsRun> stts;
  std::vector<Mp4CttsRun> ctts;  // empty when the track has no ctts
  // 8.7.5 stco/co64 and the stsc runs over them. A chunk's samples are
  // contiguous in the file from its offset.
  std::vector<uint64_t> chunk_offsets;
  std::vector<Mp4ChunkRun> chunk_runs;
  // Each chunk starts at or after the end of the one before (the usual
  // layout): a run of samples then spans [its first offset, its last end).
  bool chunks_in_file_order = false;
  bool ctts_signed = false;  // some offset is negative (write ctts version 1)

  // Summaries over all samples.
  uint64_t media_duration = 0;  // sum of stts deltas (the end of the last sample)
  int32_t min_cts_offset = 0;
  int32_t max_cts_offset = 0;
  int64_t presentation_end = 0;  // max(dts + cts_offset + duration), media time

  size_t sample_count() const { return sample_sizes.size(); }
  size_t chunk_count() const { return chunk_offsets.size(); }
  // The run holding chunk `chunk`, and the run and chunk holding `sample`.
  size_t chunk_run_of_chunk(size_t chunk) const;
  size_t chunk_run_of_sample(size_t sample) const;
  size_t chunk_of_sample(size_t sample) const;
  // The first sample of chunk `chunk` (of run `run`, chunk_run_of_chunk).
  size_t first_sample_of_chunk(size_t run, size_t chunk) const {
    const Mp4ChunkRun& r = chunk_runs[run];
    return r.first_sample + (chunk - r.first_chunk) * r.samples_per_chunk;
  }
  Mp4Sample sample(size_t i) const;
  bool is_sync(size_t i) const;
  // Decoding time of sample i (0 <= i < sample_count()): O(log stts runs).
  int64_t dts(size_t i) const;
  // The first sample at or after `from` decoded at or after `time`, or
  // sample_count(): O(log stts runs).
  size_t first_decoded_at_or_after(size_t from, double time) const;
  // File offset of sample i: its chunk's offset plus the sizes of the
  // samples before it in the chunk, O(log stsc runs + samples per chunk).
  // To walk many samples, Mp4OffsetCursor is O(1) per sample.
  uint64_t offset(size_t i) const;
  // Duration of sample i (its stts delta).
  int64_t sample_duration(size_t i) const;
  int32_t cts_offset(size_t i) const {
    return sample_cts_offsets.empty() ? 0 : sample_cts_offsets[i];
  }
};

// The file offsets of a track's samples in order from one sample on, O(1)
// per step (a chunk's first sample is at the chunk's offset, each next
// one right after the one before).
class Mp4OffsetCursor {
 public:
  Mp4OffsetCursor(const Mp4Track& track, size_t first);
  size_t sample() const { return sample_; }
  uint64_t offset() const { return offset_; }
  // Moves to the next sample (must exist).
  void next();

 private:
  const Mp4Track& track_;
  size_t sample_;
  size_t run_;
  size_t chunk_;
  size_t next_chunk_first_;  // first sample of the chunk after chunk_
  uint64_t offset_;
};

struct Mp4Index {
  uint32_t movie_timescale = 0;  // mvhd
  uint64_t movie_duration = 0;   // mvhd, movie timescale
  std::vector<uint8_t> mvhd;     // whole box (8-byte header), copied into a clip, duration patched
  std::vector<uint8_t> ftyp;     // whole box, empty if the file has none (read_mp4_index fills it)
  std::vector<Mp4Track> tracks;
  uint64_t file_size = 0;
  // moov has an mvex (14496-12 8.8.1): the file is fragmented.
  bool fragmented = false;

  size_t total_samples() const;
  // Bytes held by the index (for the vod cache's budget).
  size_t memory_bytes() const;
};

// Parses a whole moov box (header included). Sample offsets and sizes must
// lie inside [0, file_size). Checks every table against the others: sample
// counts agree (stsz, stts, stsc x stco, sdtp; ctts not longer), stsc
// first_chunk starts at 1 and increases, sample description indexes exist,
// stss numbers are in 1..sample_count, data references are self-contained.
// `moov_file_offset`: where the moov lies in the file, when it was read from
// one (sets Mp4Track::stsz_entries_offset and sdtp_entries_offset).
Result<Mp4Index> parse_mp4_moov(std::span<const uint8_t> moov, uint64_t file_size,
                                const Mp4Limits& limits = {},
                                std::optional<uint64_t> moov_file_offset = std::nullopt);

// Reads ftyp and moov through `source` (layout from scan_mp4) and parses them.
// A fragmented layout or one without moov is an Error.
Result<Mp4Index> read_mp4_index(Mp4Source& source, const Mp4Layout& layout,
                                const Mp4Limits& limits = {});

}  // namespace cascade::media
