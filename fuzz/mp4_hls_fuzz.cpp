// Fuzzes HLS from MP4 (what src/vod/vod_hls.h serves) on every index the MP4
// parser accepts: the track configs from the sample descriptions
// (mp4_track_config.h), the segment plan (mp4_segment_plan.h), the segment
// reader (mp4_segment_reader.h) and both muxers on what it reads.
//
// Input: as fuzz/mp4_index_fuzz.cpp, one mode byte, then the data: mode bit
// 0 clear, a moov box (against a 1 MiB file of zeros); set, a whole file.
//
// Contracts: segments tile the timeline without gaps and split each track's
// samples without gaps or overlaps; decode times are >= 0 and presentation
// times >= decode times; a read segment holds the planned samples and no
// more bytes than allowed; MPEG-TS output is whole 188-byte packets.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/fmp4_writer.h"
#include "media/mp4_index.h"
#include "media/mp4_segment_plan.h"
#include "media/mp4_segment_reader.h"
#include "media/mp4_track_config.h"
#include "media/mpegts_muxer.h"

namespace {

using namespace cascade::media;

constexpr Mp4SegmentLimits kLimits{1 << 20, 20'000};
constexpr size_t kMaxSegmentsRead = 6;

void check_timeline(const Mp4Track& track, const Mp4TrackTimeline& timeline, bool video) {
  for (size_t i = 0; i < track.sample_count(); ++i) {
    const int64_t dts = timeline.decode_ms(track, i);
    if (dts < 0) __builtin_trap();
    if (video && timeline.presentation_ms(track, i) < dts) __builtin_trap();
  }
}

void check_plan(const Mp4Index& index, const Mp4SegmentPlan& plan) {
  if (plan.segments.empty() || plan.segments.front().start_ms != plan.offset_ms) __builtin_trap();
  int64_t at = plan.offset_ms;
  uint32_t video_next = 0, audio_next = 0;
  for (const Mp4PlannedSegment& s : plan.segments) {
    if (s.start_ms != at || s.duration_ms <= 0) __builtin_trap();
    if (s.video.first != video_next || s.video.end < s.video.first) __builtin_trap();
    if (s.audio.first != audio_next || s.audio.end < s.audio.first) __builtin_trap();
    at += s.duration_ms;
    video_next = s.video.end;
    audio_next = s.audio.end;
  }
  if (at != plan.end_ms) __builtin_trap();
  if (plan.video_track) {
    const Mp4Track& video = index.tracks[*plan.video_track];
    if (video_next != video.sample_count()) __builtin_trap();
    check_timeline(video, plan.video_timeline, true);
  }
  if (plan.audio_track) {
    const Mp4Track& audio = index.tracks[*plan.audio_track];
    if (audio_next != audio.sample_count()) __builtin_trap();
    check_timeline(audio, plan.audio_timeline, false);
  }
}

void serve(const Mp4Index& index, Mp4Source& source, uint8_t mode) {
  const int64_t target_ms = 500 + 500 * (mode >> 5);
  auto plan = plan_mp4_segments(index, {target_ms});
  if (!plan.ok()) return;
  check_plan(index, *plan);
  // The muxers get the plan's tracks when their sample descriptions parse.
  TrackSet tracks;
  bool muxable = true;
  if (plan->video_track) {
    auto config = mp4_video_track_config(index.tracks[*plan->video_track]);
    if (config.ok()) tracks.video = std::move(config.value());
    muxable = muxable && config.ok();
  }
  if (plan->audio_track) {
    auto config = mp4_audio_track_config(index.tracks[*plan->audio_track]);
    if (config.ok() && config->sample_rate > 0) tracks.audio = std::move(config.value());
    muxable = muxable && tracks.audio.has_value();
  }
  for (size_t n = 0; n < plan->segments.size() && n < kMaxSegmentsRead; ++n) {
    auto samples = read_mp4_segment(index, *plan, n, source, kLimits);
    if (!samples.ok()) continue;
    const Mp4PlannedSegment& planned = plan->segments[n];
    if (samples->bytes > kLimits.max_bytes || samples->bytes != planned.bytes) __builtin_trap();
    if (samples->video.size() != planned.video.size()) __builtin_trap();
    if (samples->audio.size() != planned.audio.size()) __builtin_trap();
    if (!muxable) continue;
    TsMuxer muxer(tracks);
    std::vector<uint8_t> ts;
    muxer.write_tables(ts);
    for (const AvSample& s : samples->video) (void)muxer.write_sample(s, ts);
    for (const AvSample& s : samples->audio) (void)muxer.write_sample(s, ts);
    if (ts.size() % kTsPacketSize != 0) __builtin_trap();
    Fmp4FragmentInput input;
    input.sequence_number = static_cast<uint32_t>(n + 1);
    if (tracks.video) input.video = samples->video;
    input.video_end_dts = samples->video_end_dts;
    if (tracks.audio) input.audio = samples->audio;
    (void)write_fmp4_fragment(tracks, input);
  }
  if (muxable) (void)write_fmp4_init_segment(tracks);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  Mp4Limits limits;
  limits.max_samples_per_track = 100'000;  // keep each run fast
  limits.max_total_samples = 200'000;
  if ((mode & 1) == 0) {
    static const std::vector<uint8_t> zeros(1 << 20, 0);
    Mp4MemorySource source(zeros);
    auto index = parse_mp4_moov(bytes, zeros.size(), limits);
    if (index.ok()) serve(*index, source, mode);
    return 0;
  }
  Mp4MemorySource source(bytes);
  auto layout = scan_mp4(source, limits);
  if (!layout.ok()) return 0;
  auto index = read_mp4_index(source, *layout, limits);
  if (index.ok()) serve(*index, source, mode);
  return 0;
}
