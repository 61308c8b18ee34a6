#include "media/mp4_segment_reader.h"

#include <algorithm>
#include <limits>

#include "core/shared_bytes.h"

namespace cascade::media {
namespace {

// Reads the samples of `range` into `buffer` from `*filled` on, one read
// per run of file-contiguous samples.
Status read_samples(const Mp4Track& track, Mp4SampleRange range, Mp4Source& source,
                    MutableBytes& buffer, size_t& filled) {
  if (range.first >= range.end) return ok_status();
  Mp4OffsetCursor cursor(track, range.first);
  uint32_t i = range.first;
  while (i < range.end) {
    const uint64_t offset = cursor.offset();
    uint64_t length = track.sample_sizes[i];
    uint32_t next = i + 1;
    if (next < range.end) cursor.next();
    while (next < range.end && cursor.offset() == offset + length) {
      length += track.sample_sizes[next];
      ++next;
      if (next < range.end) cursor.next();
    }
    const std::span<uint8_t> out(buffer.data() + filled, static_cast<size_t>(length));
    auto read = source.read_at(offset, out);
    if (!read) return read.error();
    if (*read != length) {
      return make_error("the file ended at {} inside a sample (it changed?)", offset + *read);
    }
    filled += static_cast<size_t>(length);
    i = next;
  }
  return ok_status();
}

}  // namespace

Status check_mp4_segment_limits(const Mp4PlannedSegment& segment, size_t number,
                                const Mp4SegmentLimits& limits) {
  if (segment.bytes > limits.max_bytes) {
    return make_error("segment {} holds {} bytes of samples, over the limit of {}", number,
                      segment.bytes, limits.max_bytes);
  }
  const uint64_t samples = uint64_t{segment.video.size()} + segment.audio.size();
  if (samples > limits.max_samples) {
    return make_error("segment {} holds {} samples, over the limit of {}", number, samples,
                      limits.max_samples);
  }
  return ok_status();
}

Result<Mp4SegmentSamples> read_mp4_segment(const Mp4Index& index, const Mp4SegmentPlan& plan,
                                           size_t segment, Mp4Source& source,
                                           const Mp4SegmentLimits& limits) {
  const Mp4PlannedSegment& planned = plan.segments[segment];
  if (Status within = check_mp4_segment_limits(planned, segment, limits); !within) {
    return within.error();
  }
  const Mp4Track* video = plan.video_track ? &index.tracks[*plan.video_track] : nullptr;
  const Mp4Track* audio = plan.audio_track ? &index.tracks[*plan.audio_track] : nullptr;

  MutableBytes buffer(static_cast<size_t>(planned.bytes));
  size_t filled = 0;
  if (video) {
    if (Status s = read_samples(*video, planned.video, source, buffer, filled); !s)
      return s.error();
  }
  if (audio) {
    if (Status s = read_samples(*audio, planned.audio, source, buffer, filled); !s)
      return s.error();
  }
  buffer.resize(filled);
  const SharedBytes bytes = std::move(buffer).freeze();

  Mp4SegmentSamples out;
  out.bytes = bytes.size();
  size_t at = 0;
  if (video) {
    const Mp4TrackTimeline& timeline = plan.video_timeline;
    out.video.reserve(planned.video.size());
    for (uint32_t i = planned.video.first; i < planned.video.end; ++i) {
      AvSample sample;
      sample.kind = TrackKind::kVideo;
      sample.dts = timeline.decode_ms(*video, i);
      // Fits: the plan bounds composition offsets to 2^31 ms.
      sample.cts_ms = static_cast<int32_t>(timeline.presentation_ms(*video, i) - sample.dts);
      sample.keyframe = video->is_sync(i);
      sample.data = bytes.slice(at, video->sample_sizes[i]);
      at += video->sample_sizes[i];
      out.video.push_back(std::move(sample));
    }
    out.video_end_dts = timeline.decode_ms(*video, planned.video.end);
  }
  if (audio) {
    const Mp4TrackTimeline& timeline = plan.audio_timeline;
    out.audio.reserve(planned.audio.size());
    for (uint32_t i = planned.audio.first; i < planned.audio.end; ++i) {
      AvSample sample;
      sample.kind = TrackKind::kAudio;
      sample.dts = timeline.decode_ms(*audio, i);
      sample.keyframe = true;
      sample.data = bytes.slice(at, audio->sample_sizes[i]);
      at += audio->sample_sizes[i];
      out.audio.push_back(std::move(sample));
    }
  }
  return out;
}

}  // namespace cascade::media
