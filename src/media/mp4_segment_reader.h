// read_mp4_segment: the samples of one planned segment (mp4_segment_plan.h),
// read from the file and turned into the muxers' input (AvSample, in
// decode order, on the plan's millisecond timeline): MP4 video samples are
// already length-prefixed NAL units (14496-15), the form the muxers take;
// MP4 audio samples are raw AAC or MPEG audio frames. No transcoding.
//
// I/O goes through Mp4Source (a pread in the server): the samples of a
// segment are read into one buffer, file-contiguous samples in one read.
// Memory is bounded by the caller's limits, checked before anything is
// allocated: the sample bytes (one buffer) and the sample count (one
// AvSample each, and at least one 188-byte TS packet each once muxed), so a
// hostile sample table cannot make either large.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "media/av_sample.h"
#include "media/mp4_index.h"
#include "media/mp4_segment_plan.h"

namespace cascade::media {

struct Mp4SegmentSamples {
  std::vector<AvSample> video;  // decode order; cts_ms = presentation - decode
  std::vector<AvSample> audio;  // decode order
  // Decode time right after the last video sample (the next segment's
  // first, or the end of the track): the fMP4 duration of the last sample.
  MediaTimeMs video_end_dts = 0;
  // All samples share one buffer; this is its size.
  uint64_t bytes = 0;
};

struct Mp4SegmentLimits {
  uint64_t max_bytes = 64u << 20;  // of samples
  uint32_t max_samples = 100'000;  // video and audio together
};

// Whether the planned segment is within the limits; the error says which
// limit it passes.
Status check_mp4_segment_limits(const Mp4PlannedSegment& segment, size_t number,
                                const Mp4SegmentLimits& limits);

// Preconditions: `plan` was built from `index`; segment < plan.segments.size().
// Errors: check_mp4_segment_limits's, a read that fails or comes up short
// (the file changed under us).
Result<Mp4SegmentSamples> read_mp4_segment(const Mp4Index& index, const Mp4SegmentPlan& plan,
                                           size_t segment, Mp4Source& source,
                                           const Mp4SegmentLimits& limits);

}  // namespace cascade::media
