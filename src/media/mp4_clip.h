// build_mp4_clip: MP4 time seek for pseudo-streaming (the nginx mp4 module's
// `?start=&end=`). From a parsed Mp4Index it builds a new, self-contained
// MP4 made of a small head (ftyp + rebuilt moov + mdat header) followed by
// byte ranges of the original file, so the server sends the head from memory
// and the media with sendfile. No I/O; the index is only read.
//
// The head is built in time proportional to the chunks and runs kept, plus
// the samples only when the sizes cannot come from the file.
//
// Semantics (all times in seconds on the presentation timeline, i.e. after
// the original edit lists):
// - The reference track is the first video track with samples, else the
//   first audio track, else the first subtitle track. It starts at its last sync
//   sample presented at or before start_s (the first sync sample if there is
//   none before), so the clip begins with a keyframe; the clip's start time S
//   is that sample's presentation time. With exact_start, S is start_s
//   itself, snapped for video to the frame shown at start_s: an edit that
//   starts inside a frame is read differently by players (FFmpeg shows the
//   next frame at 0, shifting video against audio by up to one frame), one
//   that starts on a frame boundary is not. Audio is cut to the tick.
// - Every other track starts with its sample (its sync sample, if it has an
//   stss) presented at or before S; audio one sample earlier still, as
//   decoder pre-roll (AAC's priming frame). A new edit list per track
//   (14496-12 8.6.6) makes every track present from S on, hiding what lies
//   before it, so audio and video stay in sync, B-frame composition shifts
//   included.
// - End: each track keeps the samples presented before end_s (the sample
//   containing end_s for audio), plus, for reordered video, what precedes
//   them in decoding order; the edit list's segment_duration ends the
//   presentation exactly at end_s. Without end_s the clip runs to the end.
// - Tracks other than video, audio and subtitles ('sbtl', 'subt') are
//   dropped (QuickTime 'text' chapters, tmcd, hint, meta), as are tracks with
//   no sample in the clip, track references (tref), sample groups
//   (sgpd/sbgp), and the moov's udta/meta/iods.
// - The media bytes are the contiguous spans of the original file covering
//   each track's kept samples, overlapping spans merged (interleaved tracks
//   give one range); chunk offsets are shifted to match. co64 is written
//   when an offset passes 4 GiB, a 64-bit mdat size when the media does.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/result.h"
#include "core/shared_bytes.h"
#include "media/mp4_index.h"

namespace cascade::media {

struct FileRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Mp4ClipRequest {
  double start_s = 0;           // >= 0
  std::optional<double> end_s;  // > start_s; past the end means the end
  bool exact_start = false;     // present from start_s (its frame), not from the keyframe before
  // A kept stsz or sdtp slice at least this long is sent from the file
  // (Mp4Clip::head_pieces); a shorter one is written: a separate sendfile
  // costs more than copying a few KB.
  uint64_t min_table_from_file = 64 * 1024;
};

// One piece of a clip's head: bytes of Mp4Clip::head, or of the original file.
struct Mp4ClipPiece {
  bool from_file = false;
  uint64_t offset = 0;  // in Mp4Clip::head, or in the file
  uint64_t length = 0;
};

struct Mp4Clip {
  // The head (ftyp + moov + mdat box header) is head_pieces in order: the
  // bytes written for the clip (`head`), and slices of the original file's
  // own stsz and sdtp entries (Mp4Track::stsz_entries_offset), which a clip
  // keeps unchanged and so need not copy: the bulk of a long clip's moov.
  // For an index parsed from memory, head_pieces is all of `head`.
  SharedBytes head;
  std::vector<Mp4ClipPiece> head_pieces;
  uint64_t head_size = 0;         // the head_pieces' lengths: where the media starts
  std::vector<FileRange> ranges;  // original file bytes to send after the head, in order
  uint64_t total_size = 0;        // head_size + the ranges' lengths
  double start_s = 0;             // actual presentation start (the keyframe's time)
  double end_s = 0;               // actual end
};

// Errors: a start at or past the end of the reference track, an end not after
// the start, a non-finite or negative time, an index without tracks or
// without sync samples in the reference track.
Result<Mp4Clip> build_mp4_clip(const Mp4Index& index, const Mp4ClipRequest& request);

}  // namespace cascade::media
