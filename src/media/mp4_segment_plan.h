// Mp4SegmentPlan: how a progressive (indexed) MP4 is cut into HLS segments
// on demand, without transcoding (what nginx-vod-module does): which tracks
// are served, where each segment starts and ends, and which samples of each
// track it holds. Pure: computed once per index from its sample tables, no
// I/O. Every container (MPEG-TS, fMP4) cuts the same samples, so segment n
// is the same stretch of the file in every playlist.
//
// Tracks: the first video track with samples and the first audio track with
// samples (moov order). Other tracks (a second audio language, subtitles,
// timecode, hint) are not served.
//
// Timeline: every sample gets times on one millisecond timeline shared by
// the tracks (the muxers' MediaTimeMs), after the track's first edit
// (14496-12 8.6.6, honoured as mp4_clip.h does):
//   ms(t) = round((t - media_start) * 1000 / timescale) + empty_ms + offset_ms
// offset_ms is the smallest shift (the same for every track) that makes
// every decode time >= 0: B-frame reordering and AAC priming put the first
// ones before presentation time 0. Nothing is reset per segment, so
// timestamps continue across segments and audio stays in sync with video.
// Video with negative composition offsets (ctts version 1) is decoded
// -min_cts_offset ticks earlier, so PTS >= DTS as MPEG-TS requires.
//
// Cuts: segments start at sync samples (stss) of the video track, each at
// the one presented nearest to `target_ms` after the segment's start (ties:
// the earlier), or at the end of the file if that is nearer; a last
// segment shorter than a quarter of the target joins the one before. A
// segment starts at its first sample's presentation time (the first one at
// presentation time 0) and lasts until the next one starts (the last one
// until the end of the longest track). Audio samples go to the segment
// whose time span holds their decode time. Without video, audio is cut by
// time at sample boundaries the same way.
//
// Thread-safety: a plan is immutable once built and may be shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "media/mp4_index.h"

namespace cascade::media {

// One track's mapping from media time (its timescale) to the plan's
// millisecond timeline.
struct Mp4TrackTimeline {
  uint32_t timescale = 1;
  int64_t media_start = 0;   // media time shown at presentation time 0 (+ empty edits)
  int64_t decode_shift = 0;  // ticks decode times move earlier (-min negative cts offset)
  MediaTimeMs shift_ms = 0;  // empty edits + the plan's offset_ms

  // round((media_time - media_start) * 1000 / timescale) + shift_ms.
  MediaTimeMs to_ms(int64_t media_time) const;
  // Sample i's decode time; i == sample_count() is the end of the last sample.
  MediaTimeMs decode_ms(const Mp4Track& track, size_t i) const;
  // Sample i's presentation (composition) time; >= decode_ms(track, i).
  MediaTimeMs presentation_ms(const Mp4Track& track, size_t i) const;
};

// Samples [first, end) of one track, in decode order.
struct Mp4SampleRange {
  uint32_t first = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - first; }
  bool empty() const { return end == first; }
};

struct Mp4PlannedSegment {
  MediaTimeMs start_ms = 0;     // on the plan's timeline
  MediaTimeMs duration_ms = 0;  // > 0; the next segment's start_ms - start_ms (EXTINF)
  Mp4SampleRange video;         // empty without video
  Mp4SampleRange audio;         // may be empty (no audio, or none in this span)
  // The first video sample is a sync sample (always true without video).
  bool starts_with_keyframe = true;
  uint64_t bytes = 0;  // the samples' sizes summed over both tracks
};

struct Mp4SegmentPlan {
  std::optional<uint32_t> video_track;  // index into Mp4Index::tracks
  std::optional<uint32_t> audio_track;
  Mp4TrackTimeline video_timeline;  // meaningful when video_track is set
  Mp4TrackTimeline audio_timeline;
  MediaTimeMs offset_ms = 0;  // presentation time 0 on the timeline (segments[0].start_ms)
  MediaTimeMs end_ms = 0;     // end of the last segment
  std::vector<Mp4PlannedSegment> segments;

  MediaTimeMs duration_ms() const { return end_ms - offset_ms; }
  MediaTimeMs max_segment_ms() const;
  bool all_start_with_keyframes() const;
  size_t memory_bytes() const { return sizeof(*this) + segments.capacity() * sizeof(segments[0]); }
};

struct Mp4SegmentPlanOptions {
  MediaTimeMs target_ms = 6000;  // > 0
};

// Errors: no video or audio track with samples, a zero timescale, times too
// large for the millisecond timeline (past 2^40 s), composition offsets past
// 2^31 ms, an edit list that shows none of the track.
Result<Mp4SegmentPlan> plan_mp4_segments(const Mp4Index& index,
                                         const Mp4SegmentPlanOptions& options = {});

}  // namespace cascade::media
