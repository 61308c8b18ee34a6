#include "media/mp4_segment_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace cascade::media {
namespace {

// A synthetic track: `count` samples of `size` bytes, `delta` ticks each,
// laid out one after another from `offset`.
Mp4Track make_track(Mp4TrackKind kind, uint32_t timescale, uint32_t count, uint32_t delta,
                    uint32_t size = 100, uint64_t offset = 1000) {
  Mp4Track t;
  t.kind = kind;
  t.timescale = timescale;
  t.sample_sizes.assign(count, size);
  if (count > 0) {
    t.stts = {{0, count, delta, 0}};
    t.chunk_offsets = {offset};  // one chunk of every sample
    t.chunk_runs = {{0, 0, count, 1}};
  }
  t.media_duration = uint64_t{count} * delta;
  t.presentation_end = int64_t(t.media_duration);
  return t;
}

Mp4Track video(uint32_t frames, uint32_t gop, uint32_t timescale = 90000, uint32_t delta = 3000) {
  Mp4Track t = make_track(Mp4TrackKind::kVideo, timescale, frames, delta, 1000);
  t.all_sync = false;
  for (uint32_t i = 0; i < frames; i += gop) t.sync_samples.push_back(i);
  return t;
}

Mp4Track aac(uint32_t frames, uint32_t rate = 44100) {
  return make_track(Mp4TrackKind::kAudio, rate, frames, 1024, 300, 50'000'000);
}

// Composition offsets, repeated over the track; keeps the summaries right.
void set_cts(Mp4Track& t, const std::vector<int32_t>& pattern) {
  t.sample_cts_offsets.clear();
  t.min_cts_offset = 0;
  t.max_cts_offset = 0;
  t.presentation_end = 0;
  for (size_t i = 0; i < t.sample_count(); ++i) {
    const int32_t cts = pattern[i % pattern.size()];
    t.sample_cts_offsets.push_back(cts);
    t.min_cts_offset = std::min(t.min_cts_offset, cts);
    t.max_cts_offset = std::max(t.max_cts_offset, cts);
    t.presentation_end = std::max(t.presentation_end, t.dts(i) + cts + t.sample_duration(i));
  }
}

void set_edit(Mp4Track& t, int64_t media_start, uint64_t segment_duration, uint64_t empty = 0) {
  t.edits.clear();
  if (empty > 0) t.edits.push_back({empty, -1, 0x10000});
  t.edits.push_back({segment_duration, media_start, 0x10000});
  t.media_start = media_start;
  t.empty_duration = empty;
}

Mp4Index index_of(std::vector<Mp4Track> tracks) {
  Mp4Index index;
  index.movie_timescale = 1000;
  index.tracks = std::move(tracks);
  return index;
}

std::vector<MediaTimeMs> durations(const Mp4SegmentPlan& plan) {
  std::vector<MediaTimeMs> out;
  for (const auto& s : plan.segments) out.push_back(s.duration_ms);
  return out;
}

// What holds for every plan: segments tile [offset, end) without gaps, the
// cut track's samples are split without gaps or overlaps, so are audio's.
void check_invariants(const Mp4Index& index, const Mp4SegmentPlan& plan) {
  ASSERT_FALSE(plan.segments.empty());
  EXPECT_EQ(plan.segments.front().start_ms, plan.offset_ms);
  MediaTimeMs at = plan.offset_ms;
  uint32_t video_next = 0, audio_next = 0;
  for (const auto& s : plan.segments) {
    EXPECT_EQ(s.start_ms, at);
    EXPECT_GT(s.duration_ms, 0);
    at += s.duration_ms;
    EXPECT_EQ(s.video.first, video_next);
    EXPECT_EQ(s.audio.first, audio_next);
    video_next = s.video.end;
    audio_next = s.audio.end;
  }
  EXPECT_EQ(at, plan.end_ms);
  if (plan.video_track) {
    const Mp4Track& v = index.tracks[*plan.video_track];
    EXPECT_EQ(video_next, v.sample_count());
    for (size_t i = 0; i < v.sample_count(); ++i) {
      ASSERT_GE(plan.video_timeline.presentation_ms(v, i), plan.video_timeline.decode_ms(v, i));
      ASSERT_GE(plan.video_timeline.decode_ms(v, i), 0);
    }
  }
  if (plan.audio_track) {
    const Mp4Track& a = index.tracks[*plan.audio_track];
    EXPECT_EQ(audio_next, a.sample_count());
    ASSERT_GE(plan.audio_timeline.decode_ms(a, 0), 0);
  }
}

TEST(Mp4SegmentPlan, CutsAtKeyframesNearestTheTargetAndSplitsAudioByTime) {
  // 12 s of 30 fps video with 2 s GOPs; 517 AAC frames (12.005 s).
  const Mp4Index index = index_of({video(360, 60), aac(517)});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  check_invariants(index, *plan);
  EXPECT_EQ(*plan->video_track, 0u);
  EXPECT_EQ(*plan->audio_track, 1u);
  EXPECT_EQ(plan->offset_ms, 0);
  ASSERT_EQ(plan->segments.size(), 2u);
  EXPECT_EQ(durations(*plan), (std::vector<MediaTimeMs>{6000, 6005}));
  EXPECT_EQ(plan->segments[0].video.end, 180u);
  // Frame 258 decodes at 5991 ms, frame 259 at 6014 ms.
  EXPECT_EQ(plan->segments[0].audio.end, 259u);
  EXPECT_EQ(plan->segments[0].bytes, 180u * 1000 + 259u * 300);
  EXPECT_TRUE(plan->all_start_with_keyframes());
  EXPECT_EQ(plan->max_segment_ms(), 6005);
  EXPECT_EQ(plan->duration_ms(), 12005);
}

TEST(Mp4SegmentPlan, TiesGoToTheEarlierKeyframe) {
  // 4 s GOPs against a 6 s target: 4 and 8 are equally near, 4 wins.
  const Mp4Index index = index_of({video(480, 120)});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  check_invariants(index, *plan);
  EXPECT_EQ(durations(*plan), (std::vector<MediaTimeMs>{4000, 4000, 4000, 4000}));
  EXPECT_FALSE(plan->audio_track);
}

TEST(Mp4SegmentPlan, AShortLastSegmentJoinsTheOneBefore) {
  // 13 s: cuts at 6 and 12 would leave 1 s (< 6/4) at the end.
  const Mp4Index index = index_of({video(390, 60)});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok());
  check_invariants(index, *plan);
  EXPECT_EQ(durations(*plan), (std::vector<MediaTimeMs>{6000, 7000}));
}

TEST(Mp4SegmentPlan, TheEndIsACandidate) {
  // 9 s with 2 s GOPs, target 6: cut at 6; the end (9) is nearer 12 than
  // 8 is, so 6..9 is one segment.
  const Mp4Index index = index_of({video(270, 60)});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(durations(*plan), (std::vector<MediaTimeMs>{6000, 3000}));
  // Shorter than the target: one segment.
  auto whole = plan_mp4_segments(index, {20000});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(durations(*whole), (std::vector<MediaTimeMs>{9000}));
}

TEST(Mp4SegmentPlan, BFramesAndPrimingShiftTheTimelineSoDecodeTimesStartAtZero) {
  // Decode order I P B B: presentation I=1, P=4, B=2, B=3 frames; the edit
  // list starts at the I frame's presentation (1 frame = 3000 ticks).
  Mp4Track v = video(360, 60);
  set_cts(v, {3000, 9000, 0, 0});
  set_edit(v, 3000, 12000);
  // AAC priming: one frame hidden by the edit list.
  Mp4Track a = aac(518);
  set_edit(a, 1024, 12000);
  const Mp4Index index = index_of({v, a});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  check_invariants(index, *plan);
  // Video decodes from -33 ms, audio from -23 ms: everything moves by 33.
  EXPECT_EQ(plan->offset_ms, 33);
  EXPECT_EQ(plan->video_timeline.decode_ms(index.tracks[0], 0), 0);
  EXPECT_EQ(plan->video_timeline.presentation_ms(index.tracks[0], 0), 33);
  EXPECT_EQ(plan->audio_timeline.decode_ms(index.tracks[1], 1), 33);
  // Keyframe 180 is presented at 6 s; the edits end both tracks at 12 s.
  EXPECT_EQ(plan->segments.size(), 2u);
  EXPECT_EQ(plan->segments[1].start_ms, 6033);
  EXPECT_EQ(plan->end_ms, 12033);
  EXPECT_EQ(plan->duration_ms(), 12000);
}

TEST(Mp4SegmentPlan, NegativeCompositionOffsetsDecodeEarlier) {
  // ctts version 1: presentation I=0, P=3, B=1, B=2 frames.
  Mp4Track v = video(120, 30);
  set_cts(v, {0, 6000, -3000, -3000});
  const Mp4Index index = index_of({v});
  auto plan = plan_mp4_segments(index, {2000});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  check_invariants(index, *plan);
  EXPECT_EQ(plan->video_timeline.decode_shift, 3000);
  EXPECT_EQ(plan->offset_ms, 33);
  EXPECT_EQ(plan->video_timeline.presentation_ms(index.tracks[0], 0), 33);
}

TEST(Mp4SegmentPlan, AudioOnlyIsCutByTime) {
  // 10 s of AAC, 4 s target: cuts at the frames nearest 4 and 8 s.
  const Mp4Index index = index_of({aac(431)});
  auto plan = plan_mp4_segments(index, {4000});
  ASSERT_TRUE(plan.ok());
  check_invariants(index, *plan);
  ASSERT_EQ(plan->segments.size(), 3u);
  EXPECT_EQ(plan->segments[1].start_ms, 3994);  // frame 172; frame 173 is at 4017
  EXPECT_NEAR(plan->segments[2].start_ms, 8000, 12);
  EXPECT_EQ(plan->end_ms, 10008);
  EXPECT_TRUE(plan->segments[0].video.empty());
}

TEST(Mp4SegmentPlan, EmptyEditsDelayATrack) {
  Mp4Track v = video(180, 30);
  set_edit(v, 0, 6000, 500);  // 0.5 s of nothing first (movie timescale 1000)
  const Mp4Index index = index_of({v, aac(280)});
  auto plan = plan_mp4_segments(index, {2000});
  ASSERT_TRUE(plan.ok());
  check_invariants(index, *plan);
  EXPECT_EQ(plan->video_timeline.presentation_ms(index.tracks[0], 0), 500);
  // Keyframes at 1.5 and 2.5 s are equally near the 2 s aim: 1.5 wins.
  EXPECT_EQ(plan->segments[1].start_ms, 1500);
  EXPECT_EQ(plan->end_ms, 6502);  // the audio runs longer than the edit
}

TEST(Mp4SegmentPlan, AudioLongerThanVideoEndsTheLastSegment) {
  const Mp4Index index = index_of({video(180, 60), aac(431)});
  auto plan = plan_mp4_segments(index, {6000});
  ASSERT_TRUE(plan.ok());
  check_invariants(index, *plan);
  EXPECT_EQ(plan->end_ms, 10008);
  EXPECT_EQ(plan->segments.back().audio.end, 431u);
}

TEST(Mp4SegmentPlan, FilesWithoutUsableKeyframes) {
  // Only the first sample is a sync sample: one segment.
  const Mp4Index single = index_of({video(300, 1000)});
  auto plan = plan_mp4_segments(single, {2000});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->segments.size(), 1u);
  // The first sample is not a sync sample: that segment is not independent.
  Mp4Track v = video(120, 30);
  v.sync_samples.erase(v.sync_samples.begin());
  const Mp4Index late = index_of({v});
  auto plan2 = plan_mp4_segments(late, {1000});
  ASSERT_TRUE(plan2.ok());
  check_invariants(late, *plan2);
  EXPECT_FALSE(plan2->segments[0].starts_with_keyframe);
  EXPECT_TRUE(plan2->segments[1].starts_with_keyframe);
  EXPECT_FALSE(plan2->all_start_with_keyframes());
  // Keyframes presented out of order (hostile) are skipped, never a
  // segment with a negative or zero duration.
  Mp4Track odd = video(120, 30);
  set_cts(odd, {0});
  odd.sample_cts_offsets[60] = -200'000;
  odd.min_cts_offset = -200'000;
  const Mp4Index hostile = index_of({odd});
  auto plan3 = plan_mp4_segments(hostile, {1000});
  ASSERT_TRUE(plan3.ok()) << plan3.error().message;
  check_invariants(hostile, *plan3);
}

TEST(Mp4SegmentPlan, ServesTheFirstVideoAndFirstAudioTrack) {
  Mp4Track text = make_track(Mp4TrackKind::kOther, 1000, 5, 1000);
  Mp4Track empty_video = video(0, 1);
  const Mp4Index index = index_of({text, empty_video, aac(100), video(90, 30), aac(100, 48000)});
  auto plan = plan_mp4_segments(index, {2000});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(*plan->video_track, 3u);
  EXPECT_EQ(*plan->audio_track, 2u);
}

TEST(Mp4SegmentPlan, Errors) {
  struct Case {
    const char* name;
    Mp4Index index;
    const char* error;
  };
  Mp4Track zero_timescale = video(10, 5);
  zero_timescale.timescale = 0;
  Mp4Track huge = video(10, 5, 1);
  huge.media_duration = uint64_t{1} << 62;
  Mp4Track past_end = video(10, 5);
  set_edit(past_end, 1'000'000, 1000);
  Mp4Track wild_cts = video(10, 5, 100, 1);
  set_cts(wild_cts, {0, 2'000'000'000});
  Mp4Track long_empty = video(10, 5);
  set_edit(long_empty, 0, 1000, uint64_t{1} << 62);
  const std::vector<Case> cases = {
      {"no_tracks", index_of({}), "no video or audio track"},
      {"only_text", index_of({make_track(Mp4TrackKind::kOther, 1000, 5, 1000)}),
       "no video or audio track"},
      {"zero_timescale", index_of({zero_timescale}), "timescale 0"},
      {"huge_times", index_of({huge}), "too large"},
      {"edit_past_end", index_of({past_end}), "shows none"},
      {"wild_cts", index_of({wild_cts}), "composition offsets"},
      {"long_empty_edit", index_of({long_empty}), "too long"},
  };
  for (const Case& c : cases) {
    auto plan = plan_mp4_segments(c.index, {6000});
    ASSERT_FALSE(plan.ok()) << c.name;
    EXPECT_NE(plan.error().message.find(c.error), std::string::npos)
        << c.name << ": " << plan.error().message;
  }
  EXPECT_FALSE(plan_mp4_segments(index_of({video(10, 5)}), {0}).ok());
}

}  // namespace
}  // namespace cascade::media
