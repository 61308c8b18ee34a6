#include "media/mp4_segment_plan.h"

#include <algorithm>
#include <limits>

namespace cascade::media {
namespace {

// Times past 2^40 seconds (35,000 years) are refused, so every millisecond
// value below stays far inside int64 (2^50).
constexpr uint64_t kMaxSeconds = uint64_t{1} << 40;

// round(value * 1000 / timescale), halves up, for any sign of value.
// Precondition: |value| / timescale < 2^40 (no overflow).
int64_t ticks_to_ms(int64_t value, uint32_t timescale) {
  const int64_t ts = timescale;
  int64_t whole = value / ts;
  int64_t rest = value % ts;
  if (rest < 0) {
    rest += ts;
    --whole;
  }
  return whole * 1000 + (rest * 1000 + ts / 2) / ts;
}

const Mp4Track* first_track(const Mp4Index& index, Mp4TrackKind kind, uint32_t& at) {
  for (size_t i = 0; i < index.tracks.size(); ++i) {
    if (index.tracks[i].kind == kind && index.tracks[i].sample_count() > 0) {
      at = static_cast<uint32_t>(i);
      return &index.tracks[i];
    }
  }
  return nullptr;
}

// The track's timeline before the plan's common offset; checks that its
// times fit the millisecond timeline.
Result<Mp4TrackTimeline> track_timeline(const Mp4Index& index, const Mp4Track& track, bool video) {
  const char* kind = video ? "video" : "audio";
  if (track.timescale == 0) return make_error("the {} track has timescale 0", kind);
  if (track.media_duration / track.timescale >= kMaxSeconds || track.media_start < 0 ||
      uint64_t(track.media_start) / track.timescale >= kMaxSeconds) {
    return make_error("the {} track's times are too large", kind);
  }
  if (track.media_start >= track.presentation_end) {
    return make_error("the {} track's edit list shows none of its samples", kind);
  }
  Mp4TrackTimeline timeline;
  timeline.timescale = track.timescale;
  timeline.media_start = track.media_start;
  if (video) {
    timeline.decode_shift = std::max<int64_t>(0, -int64_t{track.min_cts_offset});
    const int64_t span = int64_t{track.max_cts_offset} + timeline.decode_shift;
    if (span / track.timescale >= (int64_t{1} << 31) / 1000) {
      return make_error("the video track's composition offsets are too large");
    }
  }
  if (track.empty_duration > 0) {
    if (index.movie_timescale == 0) return make_error("an edit list with movie timescale 0");
    if (track.empty_duration / index.movie_timescale >= kMaxSeconds) {
      return make_error("the {} track's edit list is too long", kind);
    }
    timeline.shift_ms = ticks_to_ms(int64_t(track.empty_duration), index.movie_timescale);
  }
  return timeline;
}

// Where the track's presentation ends on the timeline: its last sample's
// end, or sooner if its only edit ends sooner (AAC's trailing padding).
MediaTimeMs track_end_ms(const Mp4Index& index, const Mp4Track& track,
                         const Mp4TrackTimeline& timeline, bool video) {
  MediaTimeMs end = video ? timeline.to_ms(track.presentation_end)
                          : timeline.decode_ms(track, track.sample_count());
  const Mp4Edit* shown = nullptr;
  size_t shown_count = 0;
  for (const Mp4Edit& edit : track.edits) {
    if (edit.media_time != -1) {
      shown = &edit;
      ++shown_count;
    }
  }
  if (shown_count == 1 && shown->segment_duration > 0 && index.movie_timescale > 0 &&
      shown->segment_duration / index.movie_timescale < kMaxSeconds) {
    const MediaTimeMs edit_end =
        timeline.shift_ms + ticks_to_ms(int64_t(shown->segment_duration), index.movie_timescale);
    end = std::min(end, edit_end);
  }
  return end;
}

struct Cut {
  uint32_t sample = 0;  // of the cut track: the first sample of a new segment
  MediaTimeMs at = 0;   // its time
};

// The cuts into the cut track (see the header): a single forward pass over
// its sync samples, each considered once (twice when the one before it is
// chosen), so hostile tables cost linear time.
std::vector<Cut> choose_cuts(const Mp4Track& track, const Mp4TrackTimeline& timeline, bool video,
                             MediaTimeMs origin, MediaTimeMs end, MediaTimeMs target) {
  std::vector<Cut> cuts;
  MediaTimeMs start = origin;
  MediaTimeMs last_seen = origin;
  std::optional<Cut> before;  // the latest candidate before start + target
  auto consider = [&](uint32_t sample) {
    if (sample == 0) return;
    const MediaTimeMs at =
        video ? timeline.presentation_ms(track, sample) : timeline.decode_ms(track, sample);
    // Candidates must move forward in time and leave something after them.
    if (at <= last_seen || at >= end) return;
    last_seen = at;
    const Cut candidate{sample, at};
    while (true) {
      const MediaTimeMs aim = start + target;
      if (at < aim) {
        before = candidate;
        return;
      }
      if (before && aim - before->at <= at - aim) {
        cuts.push_back(*before);
        start = before->at;
        before.reset();
        continue;  // weigh this candidate against the next aim
      }
      cuts.push_back(candidate);
      start = at;
      before.reset();
      return;
    }
  };
  if (track.all_sync) {
    for (size_t i = 1; i < track.sample_count(); ++i) consider(static_cast<uint32_t>(i));
  } else {
    for (uint32_t sample : track.sync_samples) consider(sample);
  }
  // The end of the file is the last candidate.
  const MediaTimeMs aim = start + target;
  if (before && end > aim && aim - before->at <= end - aim) {
    cuts.push_back(*before);
    start = before->at;
  }
  if (!cuts.empty() && end - cuts.back().at < target / 4) cuts.pop_back();
  return cuts;
}

uint64_t bytes_of(const Mp4Track& track, Mp4SampleRange range) {
  uint64_t bytes = 0;
  for (uint32_t i = range.first; i < range.end; ++i) bytes += track.sample_sizes[i];
  return bytes;
}

}  // namespace

MediaTimeMs Mp4TrackTimeline::to_ms(int64_t media_time) const {
  return ticks_to_ms(media_time - media_start, timescale) + shift_ms;
}

MediaTimeMs Mp4TrackTimeline::decode_ms(const Mp4Track& track, size_t i) const {
  const int64_t dts =
      i < track.sample_count() ? track.dts(i) : int64_t(track.media_duration);
  return to_ms(dts - decode_shift);
}

MediaTimeMs Mp4TrackTimeline::presentation_ms(const Mp4Track& track, size_t i) const {
  return to_ms(track.dts(i) + track.cts_offset(i));
}

MediaTimeMs Mp4SegmentPlan::max_segment_ms() const {
  MediaTimeMs longest = 0;
  for (const Mp4PlannedSegment& segment : segments) {
    longest = std::max(longest, segment.duration_ms);
  }
  return longest;
}

bool Mp4SegmentPlan::all_start_with_keyframes() const {
  return std::all_of(segments.begin(), segments.end(),
                     [](const Mp4PlannedSegment& s) { return s.starts_with_keyframe; });
}

Result<Mp4SegmentPlan> plan_mp4_segments(const Mp4Index& index,
                                         const Mp4SegmentPlanOptions& options) {
  Mp4SegmentPlan plan;
  uint32_t at = 0;
  const Mp4Track* video = first_track(index, Mp4TrackKind::kVideo, at);
  if (video) plan.video_track = at;
  const Mp4Track* audio = first_track(index, Mp4TrackKind::kAudio, at);
  if (audio) plan.audio_track = at;
  if (!video && !audio) return make_error("no video or audio track with samples");
  if (options.target_ms <= 0) return make_error("the segment target must be positive");

  // Per-track timelines, then the common offset that makes every decode
  // time >= 0 (the first sample decodes first).
  MediaTimeMs earliest = 0;
  if (video) {
    auto timeline = track_timeline(index, *video, true);
    if (!timeline) return timeline.error();
    plan.video_timeline = *timeline;
    earliest = std::min(earliest, plan.video_timeline.decode_ms(*video, 0));
  }
  if (audio) {
    auto timeline = track_timeline(index, *audio, false);
    if (!timeline) return timeline.error();
    plan.audio_timeline = *timeline;
    earliest = std::min(earliest, plan.audio_timeline.decode_ms(*audio, 0));
  }
  plan.offset_ms = -earliest;
  plan.video_timeline.shift_ms += plan.offset_ms;
  plan.audio_timeline.shift_ms += plan.offset_ms;

  MediaTimeMs end = plan.offset_ms + 1;
  if (video) end = std::max(end, track_end_ms(index, *video, plan.video_timeline, true));
  if (audio) end = std::max(end, track_end_ms(index, *audio, plan.audio_timeline, false));
  plan.end_ms = end;

  const Mp4Track& cut_track = video ? *video : *audio;
  const Mp4TrackTimeline& cut_timeline = video ? plan.video_timeline : plan.audio_timeline;
  const std::vector<Cut> cuts = choose_cuts(cut_track, cut_timeline, video != nullptr,
                                            plan.offset_ms, end, options.target_ms);

  plan.segments.resize(cuts.size() + 1);
  for (size_t i = 0; i < plan.segments.size(); ++i) {
    Mp4PlannedSegment& segment = plan.segments[i];
    segment.start_ms = i == 0 ? plan.offset_ms : cuts[i - 1].at;
    const MediaTimeMs next = i < cuts.size() ? cuts[i].at : end;
    segment.duration_ms = next - segment.start_ms;
    Mp4SampleRange range{
        i == 0 ? 0 : cuts[i - 1].sample,
        i < cuts.size() ? cuts[i].sample : static_cast<uint32_t>(cut_track.sample_count())};
    if (video) {
      segment.video = range;
      segment.starts_with_keyframe = video->is_sync(range.first);
      segment.bytes += bytes_of(*video, range);
    } else {
      segment.audio = range;
      segment.bytes += bytes_of(*audio, range);
    }
  }
  if (video && audio) {
    // Audio by decode time: the first sample at or after each segment's
    // start begins it; decode times never decrease (stts deltas are >= 0).
    const uint32_t count = static_cast<uint32_t>(audio->sample_count());
    uint32_t first = 0;
    for (size_t i = 0; i < plan.segments.size(); ++i) {
      uint32_t end_sample = count;
      if (i + 1 < plan.segments.size()) {
        const MediaTimeMs next_start = plan.segments[i + 1].start_ms;
        uint32_t low = first, high = count;
        while (low < high) {
          const uint32_t mid = low + (high - low) / 2;
          if (plan.audio_timeline.decode_ms(*audio, mid) < next_start) {
            low = mid + 1;
          } else {
            high = mid;
          }
        }
        end_sample = low;
      }
      plan.segments[i].audio = {first, end_sample};
      plan.segments[i].bytes += bytes_of(*audio, plan.segments[i].audio);
      first = end_sample;
    }
  }
  return plan;
}

}  // namespace cascade::media
