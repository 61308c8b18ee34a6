#include "vod/vod_hls_plan.h"

#include "media/mp4_track_config.h"

namespace cascade::vod {
namespace {

constexpr uint64_t kTsPacket = 188;
constexpr uint64_t kTsPayload = 184;

uint64_t ts_packets(uint64_t bytes) {
  return (bytes + kTsPayload - 1) / kTsPayload;
}

// media/mpegts_muxer.cpp: PAT and PMT open each segment; every PES is
// packed from its first TS packet's payload on, the first one after an
// adaptation field of 8 bytes when it carries the PCR (video, or audio
// without video), the last one stuffed.
std::vector<VodHlsSegmentSize> segment_sizes(const media::Mp4Index& index,
                                             const media::Mp4SegmentPlan& plan,
                                             const media::TrackSet& tracks) {
  constexpr uint64_t kPesHeaderWithDts = 19;
  constexpr uint64_t kPesHeader = 14;
  constexpr uint64_t kPcrField = 8;
  constexpr uint64_t kAdts = 7;
  // fmp4_writer.cpp: moof 8 + mfhd 16 + mdat header 8; per traf 8 + tfhd 16
  // + tfdt 20 + trun 20; per sample 16 (video) or 12 (audio) in the trun.
  constexpr uint64_t kFragmentFixed = 8 + 16 + 8;
  constexpr uint64_t kTraf = 8 + 16 + 20 + 20;

  uint64_t access_unit_extra = 0;  // AUD
  uint64_t keyframe_extra = 0;     // in-band parameter sets
  if (tracks.video) {
    const bool hevc = tracks.video->codec == media::VideoCodecId::kHevc;
    access_unit_extra = hevc ? 7 : 6;
    for (const auto& set : tracks.video->parameter_sets) keyframe_extra += 4 + set.size();
  }
  const bool adts = tracks.audio && tracks.audio->codec == media::AudioCodecId::kAac;
  const media::Mp4Track* video = plan.video_track ? &index.tracks[*plan.video_track] : nullptr;
  const media::Mp4Track* audio = plan.audio_track ? &index.tracks[*plan.audio_track] : nullptr;

  std::vector<VodHlsSegmentSize> sizes;
  sizes.reserve(plan.segments.size());
  for (const media::Mp4PlannedSegment& segment : plan.segments) {
    VodHlsSegmentSize size;
    size.ts = 2 * kTsPacket;
    size.fmp4 = kFragmentFixed + segment.bytes;
    if (video && !segment.video.empty()) {
      size.fmp4 += kTraf + 16 * uint64_t{segment.video.size()};
      for (uint32_t i = segment.video.first; i < segment.video.end; ++i) {
        const uint64_t pes = kPesHeaderWithDts + access_unit_extra + video->sample_sizes[i] +
                             (video->is_sync(i) ? keyframe_extra : 0);
        size.ts += kTsPacket * ts_packets(pes + kPcrField);
      }
    }
    if (audio && !segment.audio.empty()) {
      size.fmp4 += kTraf + 12 * uint64_t{segment.audio.size()};
      for (uint32_t i = segment.audio.first; i < segment.audio.end; ++i) {
        const uint64_t pes = kPesHeader + (adts ? kAdts : 0) + audio->sample_sizes[i];
        size.ts += kTsPacket * ts_packets(pes + (video ? 0 : kPcrField));
      }
    }
    sizes.push_back(size);
  }
  return sizes;
}

}  // namespace

size_t VodHlsPlan::memory_bytes() const {
  size_t bytes = sizeof(*this) + plan.memory_bytes() - sizeof(plan) +
                 sizes.capacity() * sizeof(VodHlsSegmentSize);
  if (tracks.video) {
    bytes += tracks.video->record.size() + tracks.video->codec_string.size();
    for (const auto& set : tracks.video->parameter_sets) bytes += set.size() + sizeof(set);
  }
  if (tracks.audio)
    bytes += tracks.audio->specific_config.size() + tracks.audio->codec_string.size();
  return bytes;
}

Result<VodHlsPlan> make_vod_hls_plan(const media::Mp4Index& index, MediaTimeMs segment_target_ms) {
  auto planned = media::plan_mp4_segments(index, {segment_target_ms});
  if (!planned) return planned.error();
  VodHlsPlan out;
  out.plan = std::move(planned.value());
  out.segment_target_ms = segment_target_ms;
  if (out.plan.video_track) {
    const media::Mp4Track& video = index.tracks[*out.plan.video_track];
    auto config = media::mp4_video_track_config(video);
    if (!config) return make_error("video track {}: {}", video.track_id, config.error().message);
    out.tracks.video = std::move(config.value());
    if (video.media_duration > 0) {
      out.frame_rate =
          double(video.sample_count()) * video.timescale / double(video.media_duration);
    }
  }
  if (out.plan.audio_track) {
    const media::Mp4Track& audio = index.tracks[*out.plan.audio_track];
    auto config = media::mp4_audio_track_config(audio);
    if (!config) return make_error("audio track {}: {}", audio.track_id, config.error().message);
    if (config->sample_rate == 0)
      return make_error("audio track {}: sample rate 0", audio.track_id);
    out.tracks.audio = std::move(config.value());
  }
  out.sizes = segment_sizes(index, out.plan, out.tracks);
  return out;
}

}  // namespace cascade::vod
