// plan_flv_seek: FLV pseudo-streaming (`?start=`, as lighttpd's
// mod_flv_streaming and nginx's flv module answer Flash players), from a
// FlvKeyframeIndex. The answer is a valid FLV made of a fresh 13-byte head
// (FLV spec E.2 header, PreviousTagSize0) and whole tags copied from the
// file as byte ranges, so the server sends the head from memory and the rest
// with sendfile:
//
//   header | onMetaData tag | last video and audio sequence header tags
//   before the seek point | the file's tags from the seek point on.
//
// Every copied tag keeps its PreviousTagSize, so the tag chain stays valid.
// Timestamps are left as in the file (players handle a start offset), so
// nothing but the head is rewritten.
//
// Units (the caller's choice per root):
// - kBytes: start_byte must be the offset of a seek point (what JW Player
//   and Flowplayer send, read from onMetaData keyframes.filepositions); it is
//   checked against the file at request time, as the index may be stale.
// - kSeconds: the seek point is the last video keyframe at or before
//   start_s (in an audio-only file, the first audio tag at or after it).
//   end_s cuts the file before the first tag stamped at or after it, walking
//   from the last seek point before end_s (so the body stays one contiguous
//   range of the file).
//
// Starting at or before the first tag (or the first seek point, without an
// end) is the whole file: the caller serves it as it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/flv_keyframe_index.h"
#include "media/mp4_clip.h"  // media::FileRange
#include "media/mp4_index.h"

namespace cascade::flv {

enum class FlvSeekUnit : uint8_t { kBytes, kSeconds };

struct FlvSeekRequest {
  FlvSeekUnit unit = FlvSeekUnit::kBytes;
  uint64_t start_byte = 0;      // kBytes
  double start_s = 0;           // kSeconds, >= 0
  std::optional<double> end_s;  // kSeconds only; > start_s, past the end means the end
};

enum class FlvSeekVerdict : uint8_t {
  kClip,       // send header + ranges
  kWholeFile,  // serve the file as it is
  kBadStart,   // 400: start is not a seek point of this file
  kPastEnd,    // 416: start is past the file's last tag
  kCannotSeek  // 422: the file cannot be seeked (no seek points, broken tags, ...)
};

struct FlvSeekPlan {
  FlvSeekVerdict verdict = FlvSeekVerdict::kClip;
  std::string reason;                    // for every verdict but kClip and kWholeFile
  std::vector<uint8_t> header;           // kClip: 13 bytes
  std::vector<media::FileRange> ranges;  // kClip: in order, adjacent ones merged
  uint64_t total_size = 0;               // kClip: header + ranges
  uint32_t start_ms = 0;                 // kClip: the timestamp of the seek point
};

// Reads the file through `source` only to check the chosen seek point and,
// with end_s, to find the cut.
FlvSeekPlan plan_flv_seek(media::Mp4Source& source, const FlvKeyframeIndex& index,
                          const FlvSeekRequest& request, const FlvIndexLimits& limits = {});

}  // namespace cascade::flv
