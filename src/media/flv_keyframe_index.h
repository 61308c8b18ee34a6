// FlvKeyframeIndex: where a progressive FLV file (FLV spec v10.1, Annex E)
// can be entered, for pseudo-streaming seeks (flv_seek.h): the file offset
// and timestamp of every video keyframe tag, plus the tags a player needs
// before it (onMetaData, the sequence headers).
//
// Two ways to build it, both checked against the file:
// - From onMetaData `keyframes` { times: [s], filepositions: [bytes] }
//   (the de facto index written by FFmpeg's -flvflags add_keyframe_index,
//   yamdi, flvtool2). Accepted only when plausible: equal lengths within
//   limits, finite values, offsets strictly increasing inside the file, times
//   non-decreasing, and the file agreeing with it: the tag chain from the
//   first tag walks exactly onto the first entry, a sample of entries
//   (first, last, evenly spaced) are video keyframe tags at a tag boundary
//   with the listed timestamp, and the file ends on a whole tag. The rest of
//   the file is not read.
// - Otherwise by walking every tag of the file (headers only, read in
//   bounded chunks), which also checks each DataSize and PreviousTagSize.
//
// Untrusted input: a truncated tag, a DataSize past the end, a PreviousTagSize
// mismatch, a bad header, too many tags or entries are Errors, never a crash;
// memory is bounded by FlvIndexLimits (12 bytes per seek point).
//
// No I/O of its own: the file is read through media::Mp4Source
// (mp4_index.h), a format-neutral read-at interface despite its name.
//
// Thread-safety: functions are reentrant; an index is immutable once built
// and may be shared between threads (the vod index cache does so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/result.h"
#include "media/flv.h"
#include "media/mp4_index.h"

namespace cascade::flv {

struct FlvIndexLimits {
  // Seek points kept (video keyframes, or audio tags in an audio-only file).
  uint32_t max_seek_points = 2'000'000;
  // Tags walked by a full scan (each is at least 15 bytes of file).
  uint64_t max_tags = 20'000'000;
  // Sequence header tags kept (a file that changes codec configuration more
  // often than this is refused).
  uint32_t max_sequence_headers = 1024;
  // onMetaData bodies larger than this are not decoded (the file is scanned).
  uint32_t max_metadata_bytes = 4 << 20;
  // FLV spec E.2 DataOffset: bytes of file header (normally 9).
  uint32_t max_data_offset = 1 << 20;
  // Tags walked from the start of the file to reach the first keyframe
  // listed by onMetaData; farther than this, the file is scanned instead.
  uint32_t max_head_tags = 10'000;
  // Tags walked from a keyframe to find where an `end` time cuts the file.
  uint32_t max_cut_tags = 1'000'000;
  // Entries of an onMetaData index checked against the file.
  uint32_t metadata_checks = 16;
};

// One whole tag: its 11-byte header, DataSize bytes of body and the
// PreviousTagSize after it (FLV spec E.3, E.4.1).
struct FlvTagSpan {
  uint64_t offset = 0;  // of the tag header
  uint32_t data_size = 0;
  uint32_t timestamp_ms = 0;
  uint64_t length() const { return kTagHeaderSize + uint64_t{data_size} + kPreviousTagSizeSize; }
  uint64_t end() const { return offset + length(); }
};

enum class FlvSeekPointKind : uint8_t {
  kVideoKeyframe,  // a video tag with FrameType 1 carrying coded frames
  kAudio,          // any audio tag that is not a sequence header (audio-only files)
};

enum class FlvIndexOrigin : uint8_t { kMetadata, kScan };

struct FlvKeyframeIndex {
  uint64_t file_size = 0;
  // FLV spec E.2/E.3: DataOffset + PreviousTagSize0, where the first tag is.
  uint64_t first_tag_offset = 0;
  uint8_t type_flags = 0;  // E.2 TypeFlags of the file (4 audio, 1 video), advisory
  FlvIndexOrigin origin = FlvIndexOrigin::kScan;
  FlvSeekPointKind kind = FlvSeekPointKind::kVideoKeyframe;

  // The first script tag named "onMetaData", if seen.
  std::optional<FlvTagSpan> metadata;
  // Sequence header tags (AVC/HEVC decoder configuration records,
  // AACPacketType 0, Enhanced RTMP SequenceStart), in file order. From a
  // metadata index, only those before its first keyframe are known.
  std::vector<FlvTagSpan> video_configs;
  std::vector<FlvTagSpan> audio_configs;

  // The seek points, one entry per point in each vector: tag offsets
  // strictly increasing; times in milliseconds (the tags' timestamps).
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> times_ms;
  // times_ms never decreases; when false only byte seeks are possible.
  bool times_monotonic = true;

  // The largest tag timestamp known (ms): every tag's from a scan; from a
  // metadata index, its last keyframe's or the file's last tag's.
  uint32_t duration_ms = 0;

  size_t memory_bytes() const;
  // The seek point whose tag starts at `offset`, if any.
  std::optional<size_t> find_offset(uint64_t offset) const;
};

// Reads the file header and builds the index (see the top of this file).
// Errors: not an FLV (signature, version, DataOffset, PreviousTagSize0), or
// a broken tag chain or a limit exceeded during a scan.
Result<FlvKeyframeIndex> read_flv_keyframe_index(media::Mp4Source& source,
                                                 const FlvIndexLimits& limits = {});

// Checks that seek point `point` of `index` still matches the file: a tag
// boundary (the PreviousTagSize before it points back to a tag of that
// size, or it is the first tag), a tag of the index's kind with the listed
// timestamp (within 1 ms for a metadata index, whose times are rounded
// seconds), whole inside the file and followed by its PreviousTagSize.
Status check_flv_seek_point(media::Mp4Source& source, const FlvKeyframeIndex& index, size_t point);

// Walks the tags from `from` (a tag boundary) and returns the offset of the
// first one whose timestamp is at least `end_ms`, or the file size when none
// is. Errors: a broken tag, or more than limits.max_cut_tags tags walked.
Result<uint64_t> find_flv_tag_at_or_after(media::Mp4Source& source, const FlvKeyframeIndex& index,
                                          uint64_t from, uint32_t end_ms,
                                          const FlvIndexLimits& limits = {});

}  // namespace cascade::flv
