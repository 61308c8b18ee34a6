#include "protocols/hls/segmenter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/avc_config.h"
#include "media/test_corpus.h"

namespace cascade::hls {
namespace {

using media::AvSample;
using media::TrackKind;
using media::TrackSet;
using media::testing::bytes;
using media::testing::Bytes;

// 2023-11-14T22:13:20.000Z: the wall clock when dts 0 arrives.
constexpr int64_t kWall = 1'700'000'000'000;

// Real AVCDecoderConfigurationRecords (FFmpeg/libx264), as in
// src/media/avc_config_test.cpp. 1280x720 High@3.1:
const Bytes kHigh720p = bytes({
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
});
// 1920x1080 Main@4.0.
const Bytes kMain1080p = bytes({
    0x01, 0x4d, 0x40, 0x28, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x4d, 0x40, 0x28, 0xec, 0xa0,
    0x3c, 0x01, 0x13, 0xf2, 0xe0, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
    0x00, 0x78, 0x1e, 0x30, 0x63, 0x2c, 0x01, 0x00, 0x05, 0x68, 0xeb, 0xe3, 0xcb, 0x20,
});

// Tiny well-formed AVCC access units (4-byte NAL lengths).
const Bytes kIdr = bytes({0, 0, 0, 2, 0x65, 0x88});
const Bytes kNonIdr = bytes({0, 0, 0, 2, 0x41, 0x9a});
const Bytes kAacFrame = bytes({0x21, 0x10, 0x05, 0x40, 0x8c, 0x1c});

media::VideoTrackConfig h264(const Bytes& record) {
  media::VideoTrackConfig video;
  auto avc = media::parse_avc_decoder_config(record);
  EXPECT_TRUE(avc.ok());
  if (!avc.ok()) return video;
  video.codec = media::VideoCodecId::kH264;
  video.record = SharedBytes::copy_of(record);
  video.nal_length_size = avc->nal_length_size;
  for (const auto& sps : avc->sps) video.parameter_sets.push_back(sps);
  for (const auto& pps : avc->pps) video.parameter_sets.push_back(pps);
  video.width = avc->width;
  video.height = avc->height;
  video.codec_string = media::avc_codec_string(*avc);
  return video;
}

media::AudioTrackConfig aac() {
  media::AudioTrackConfig audio;
  audio.codec = media::AudioCodecId::kAac;
  audio.specific_config = SharedBytes::copy_of(bytes({0x12, 0x10}));  // AAC LC, 44.1 kHz, stereo
  audio.aac_object_type = 2;
  audio.sampling_frequency_index = 4;
  audio.channel_configuration = 2;
  audio.sample_rate = 44100;
  audio.channels = 2;
  audio.samples_per_frame = 1024;
  audio.codec_string = "mp4a.40.2";
  return audio;
}

TrackSet av_tracks(const Bytes& record = kHigh720p) {
  return TrackSet{h264(record), aac()};
}
TrackSet video_tracks() {
  return TrackSet{h264(kHigh720p), std::nullopt};
}
TrackSet audio_tracks() {
  return TrackSet{std::nullopt, aac()};
}

AvSample video(MediaTimeMs dts, bool keyframe) {
  return AvSample{TrackKind::kVideo, dts, 0, keyframe,
                  SharedBytes::copy_of(keyframe ? kIdr : kNonIdr)};
}

AvSample audio(MediaTimeMs dts) {
  return AvSample{TrackKind::kAudio, dts, 0, true, SharedBytes::copy_of(kAacFrame)};
}

// 30 fps: video frame i at round(i * 1000 / 30) ms.
MediaTimeMs frame_dts(int64_t i) {
  return (i * 100 + 1) / 3;
}
// AAC, 1024 samples a frame at 44.1 kHz: audio frame j at round(j * 1024000 / 44100) ms.
MediaTimeMs aac_dts(int64_t j) {
  return (j * 1'024'000 + 22'050) / 44'100;
}

using KeyframeRule = std::function<bool(int64_t frame)>;

KeyframeRule every(int64_t gop_frames) {
  return [gop_frames](int64_t i) { return i % gop_frames == 0; };
}

KeyframeRule at(std::vector<int64_t> frames) {
  return [frames](int64_t i) { return std::find(frames.begin(), frames.end(), i) != frames.end(); };
}

// Video frames [first, end) of a 30 fps stream and, with_audio, the AAC frames
// in the same time span, in arrival (dts) order, video first on ties.
std::vector<AvSample> av_stream(int64_t first, int64_t end, const KeyframeRule& keyframe,
                                bool with_audio = true) {
  std::vector<AvSample> out;
  for (int64_t i = first; i < end; ++i) out.push_back(video(frame_dts(i), keyframe(i)));
  if (with_audio) {
    for (int64_t j = 0; aac_dts(j) < frame_dts(end); ++j) {
      if (aac_dts(j) >= frame_dts(first)) out.push_back(audio(aac_dts(j)));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const AvSample& a, const AvSample& b) {
    if (a.dts != b.dts) return a.dts < b.dts;
    return a.kind == TrackKind::kVideo && b.kind != TrackKind::kVideo;
  });
  return out;
}

std::vector<AvSample> audio_stream(int64_t first, int64_t end) {
  std::vector<AvSample> out;
  for (int64_t j = first; j < end; ++j) out.push_back(audio(aac_dts(j)));
  return out;
}

size_t count_kind(const std::vector<AvSample>& samples, TrackKind kind) {
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(),
                                           [kind](const AvSample& s) { return s.kind == kind; }));
}

// Arrival wall clock: kWall + offset + dts.
void push_all(Segmenter& segmenter, const std::vector<AvSample>& samples,
              int64_t wall_offset_ms = 0) {
  for (const AvSample& sample : samples)
    segmenter.push(sample, kWall + wall_offset_ms + sample.dts);
}

// --- Recording sink ----------------------------------------------------------

struct Event {
  enum Kind { kInit, kStart, kPart, kEnd } kind;
  uint32_t init_id = 0;
  uint64_t msn = 0;
  uint32_t index = 0;
};

class Recorder : public SegmenterSink {
 public:
  struct Init {
    uint32_t id;
    TrackSet tracks;
    SharedBytes bytes;
  };

  void on_init(uint32_t init_id, const TrackSet& tracks, SharedBytes init) override {
    events.push_back({Event::kInit, init_id, 0, 0});
    inits.push_back({init_id, tracks, std::move(init)});
  }
  void on_segment_start(const SegmentStart& start) override {
    events.push_back({Event::kStart, start.init_id, start.msn, 0});
    starts.push_back(start);
  }
  void on_part(const PartOut& part) override {
    events.push_back({Event::kPart, 0, part.msn, part.index});
    parts.push_back(part);
  }
  void on_segment_end(const SegmentOut& segment) override {
    events.push_back({Event::kEnd, segment.start.init_id, segment.start.msn, segment.parts});
    segments.push_back(segment);
  }

  std::vector<PartOut> parts_of(uint64_t msn) const {
    std::vector<PartOut> out;
    for (const PartOut& p : parts) {
      if (p.msn == msn) out.push_back(p);
    }
    return out;
  }
  std::vector<MediaTimeMs> durations() const {
    std::vector<MediaTimeMs> out;
    for (const SegmentOut& s : segments) out.push_back(s.duration_ms);
    return out;
  }
  std::vector<MediaTimeMs> start_dts() const {
    std::vector<MediaTimeMs> out;
    for (const SegmentOut& s : segments) out.push_back(s.start.start_dts);
    return out;
  }
  uint32_t video_frames() const {
    uint32_t n = 0;
    for (const SegmentOut& s : segments) n += s.video_frames;
    return n;
  }

  std::vector<Event> events;
  std::vector<Init> inits;
  std::vector<SegmentStart> starts;
  std::vector<PartOut> parts;
  std::vector<SegmentOut> segments;
};

// --- fMP4 fragment inspection ------------------------------------------------

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

struct TrackRun {
  uint32_t track_id = 0;
  uint64_t base_time = 0;  // tfdt, track timescale
  uint32_t samples = 0;    // trun sample_count
};

// The traf of each moof in `bytes` (14496-12 8.8): tfhd track_ID, tfdt
// baseMediaDecodeTime, trun sample_count.
std::vector<TrackRun> fragment_runs(std::span<const uint8_t> b) {
  std::vector<TrackRun> out;
  auto for_each_box = [&b](size_t from, size_t to, const auto& visit) {
    size_t pos = from;
    while (pos + 8 <= to) {
      const uint32_t size = be32(b, pos);
      if (size < 8 || pos + size > to) {
        ADD_FAILURE() << "bad box size " << size << " at " << pos;
        return;
      }
      visit(std::string(reinterpret_cast<const char*>(&b[pos + 4]), 4), pos, pos + size);
      pos += size;
    }
  };
  for_each_box(0, b.size(), [&](const std::string& type, size_t start, size_t end) {
    if (type != "moof") return;
    for_each_box(start + 8, end, [&](const std::string& traf, size_t ts, size_t te) {
      if (traf != "traf") return;
      TrackRun run;
      for_each_box(ts + 8, te, [&](const std::string& box, size_t s, size_t) {
        // Full boxes: version and flags, then the fields.
        if (box == "tfhd") run.track_id = be32(b, s + 12);
        if (box == "tfdt") {
          run.base_time =
              b[s + 8] == 1 ? (uint64_t(be32(b, s + 12)) << 32 | be32(b, s + 16)) : be32(b, s + 12);
        }
        if (box == "trun") run.samples = be32(b, s + 12);
      });
      out.push_back(run);
    });
  });
  return out;
}

// --- The checks every output must pass ---------------------------------------

// Event order (SegmenterSink contract), segment/part numbering, and the
// 8216bis rules: EXTINF rounded <= TARGETDURATION (fixed), parts <=
// PART-TARGET and >= 85% of it except INDEPENDENT parts and the last part of
// a segment; the first part is independent iff the segment is; the segment's
// bytes are its parts'; TS segments start with PAT and PMT; program dates
// follow dts from their anchor within each discontinuity run.
void check_output(const Recorder& r, const SegmenterConfig& config) {
  std::vector<uint32_t> inits_seen;
  bool open = false;
  uint64_t open_msn = 0;
  uint32_t next_part = 0;
  std::optional<uint64_t> last_msn;
  for (size_t i = 0; i < r.events.size(); ++i) {
    const Event& e = r.events[i];
    SCOPED_TRACE("event " + std::to_string(i));
    switch (e.kind) {
      case Event::kInit:
        EXPECT_FALSE(open) << "on_init inside a segment";
        inits_seen.push_back(e.init_id);
        break;
      case Event::kStart:
        EXPECT_FALSE(open) << "segment " << e.msn << " starts inside " << open_msn;
        EXPECT_NE(std::find(inits_seen.begin(), inits_seen.end(), e.init_id), inits_seen.end())
            << "init " << e.init_id << " not sent before segment " << e.msn;
        if (last_msn) {
          EXPECT_EQ(e.msn, *last_msn + 1);
        }
        last_msn = e.msn;
        open = true;
        open_msn = e.msn;
        next_part = 0;
        break;
      case Event::kPart:
        EXPECT_TRUE(open) << "part outside a segment";
        EXPECT_EQ(e.msn, open_msn);
        EXPECT_EQ(e.index, next_part++);
        break;
      case Event::kEnd:
        EXPECT_TRUE(open) << "end outside a segment";
        EXPECT_EQ(e.msn, open_msn);
        EXPECT_EQ(e.index, next_part) << "SegmentOut.parts";
        open = false;
        break;
    }
  }

  std::map<uint64_t, SegmentStart> starts;
  for (const SegmentStart& s : r.starts) starts[s.msn] = s;
  const uint32_t target = r.segments.empty() ? 0 : r.segments.front().target_duration_s;
  std::optional<int64_t> date_offset;  // program_date_ms - start_dts within a run
  for (const SegmentOut& s : r.segments) {
    SCOPED_TRACE("segment " + std::to_string(s.start.msn));
    ASSERT_TRUE(starts.count(s.start.msn));
    const SegmentStart& start = starts[s.start.msn];
    EXPECT_EQ(s.start.start_dts, start.start_dts);
    EXPECT_EQ(s.start.independent, start.independent);
    EXPECT_EQ(s.start.discontinuity, start.discontinuity);
    EXPECT_EQ(s.start.program_date_ms, start.program_date_ms);

    EXPECT_GT(target, 0u);
    EXPECT_EQ(s.target_duration_s, target) << "the Target Duration never changes";
    EXPECT_LE((s.duration_ms + 500) / 1000, MediaTimeMs(target)) << "EXTINF " << s.duration_ms;

    const std::vector<PartOut> parts = r.parts_of(s.start.msn);
    ASSERT_EQ(parts.size(), s.parts);
    ASSERT_FALSE(parts.empty());
    EXPECT_EQ(parts.front().independent, s.start.independent);
    MediaTimeMs sum = 0;
    Bytes joined;
    for (size_t i = 0; i < parts.size(); ++i) {
      const PartOut& p = parts[i];
      SCOPED_TRACE("part " + std::to_string(i));
      sum += p.duration_ms;
      EXPECT_GT(p.bytes.size(), 0u);
      joined.insert(joined.end(), p.bytes.span().begin(), p.bytes.span().end());
      EXPECT_LE(p.duration_ms, config.part_target_ms);
      if (!p.independent && i + 1 < parts.size()) {
        EXPECT_GE(p.duration_ms * 100, config.part_target_ms * 85) << p.duration_ms;
      }
    }
    EXPECT_EQ(sum, s.duration_ms);
    EXPECT_TRUE(
        std::equal(joined.begin(), joined.end(), s.fmp4.span().begin(), s.fmp4.span().end()))
        << "segment bytes are its parts, concatenated";

    ASSERT_GE(s.ts.size(), 2 * media::kTsPacketSize);
    EXPECT_EQ(s.ts.size() % media::kTsPacketSize, 0u);
    EXPECT_EQ(s.ts[0], 0x47);  // PAT: sync, payload_unit_start, PID 0
    EXPECT_EQ(s.ts[1], 0x40);
    EXPECT_EQ(s.ts[2], 0x00);
    EXPECT_EQ(s.ts[188], 0x47);  // PMT: PID 0x1000
    EXPECT_EQ(s.ts[189], 0x50);
    EXPECT_EQ(s.ts[190], 0x00);

    if (s.start.discontinuity || !date_offset) {
      date_offset = s.start.program_date_ms - s.start.start_dts;
    }
    EXPECT_EQ(s.start.program_date_ms - s.start.start_dts, *date_offset);
  }
  // Within a run, each segment starts where the previous one ended.
  for (size_t i = 1; i < r.segments.size(); ++i) {
    const SegmentOut& prev = r.segments[i - 1];
    const SegmentOut& next = r.segments[i];
    if (!next.start.discontinuity) {
      EXPECT_EQ(next.start.start_dts, prev.start.start_dts + prev.duration_ms) << next.start.msn;
    }
  }
}

SegmenterConfig config(MediaTimeMs segment_target_ms = 2000, MediaTimeMs part_target_ms = 333) {
  return SegmenterConfig{segment_target_ms, part_target_ms};
}

// --- Segment cutting ---------------------------------------------------------

TEST(Segmenter, Gop1500msWith2sTargetGives1500msSegments) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 300, every(45)));
  EXPECT_EQ(r.durations(), std::vector<MediaTimeMs>(6, 1500));
  EXPECT_EQ(s.target_duration_s(), 2u);
  EXPECT_EQ(s.forced_cuts(), 0u);
  EXPECT_EQ(s.dropped_samples(), 0u);
  for (const SegmentOut& seg : r.segments) {
    EXPECT_TRUE(seg.start.independent);
    EXPECT_FALSE(seg.start.discontinuity);
    EXPECT_EQ(seg.video_frames, 45u);
  }
  check_output(r, s.config());
}

TEST(Segmenter, Gop500msWith2sTargetGives2sSegments) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 300, every(15)));
  EXPECT_EQ(r.durations(), std::vector<MediaTimeMs>(4, 2000));
  EXPECT_EQ(r.start_dts(), (std::vector<MediaTimeMs>{0, 2000, 4000, 6000}));
  EXPECT_EQ(s.target_duration_s(), 2u);
  check_output(r, s.config());
}

TEST(Segmenter, GopEqualToTarget) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 300, every(60)));
  EXPECT_EQ(r.durations(), std::vector<MediaTimeMs>(4, 2000));
  check_output(r, s.config());
}

// A 4 s GOP with a 2 s target: the first segment fixes the Target Duration at
// 4. A later 6 s GOP cannot fit: the segment is cut at a non-keyframe just
// before it would round above 4 s, and the rest of the GOP makes a segment
// that is not independent.
TEST(Segmenter, LongGopFixesTargetDurationAndForcesACut) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  EXPECT_EQ(s.target_duration_s(), 0u);
  // Keyframes at 0, 4, 8, 14, 18, 22 s.
  push_all(s, av_stream(0, 700, at({0, 120, 240, 420, 540, 660})));
  EXPECT_EQ(s.target_duration_s(), 4u);
  EXPECT_EQ(s.forced_cuts(), 1u);
  // The cut: the frame whose successor (12500 ms) would end the segment at 4.5 s.
  EXPECT_EQ(r.start_dts(), (std::vector<MediaTimeMs>{0, 4000, 8000, 12467, 14000, 18000}));
  EXPECT_EQ(r.durations(), (std::vector<MediaTimeMs>{4000, 4000, 4467, 1533, 4000, 4000}));
  ASSERT_EQ(r.segments.size(), 6u);
  for (size_t i = 0; i < r.segments.size(); ++i) {
    EXPECT_EQ(r.segments[i].start.independent, i != 3) << i;
    EXPECT_EQ(r.segments[i].target_duration_s, 4u);
  }
  EXPECT_FALSE(r.parts_of(r.segments[3].start.msn).front().independent);
  check_output(r, s.config());
}

TEST(Segmenter, TargetDurationRoundsTheFirstSegmentUp) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 200, at({0, 75, 150})));  // 2.5 s GOPs
  ASSERT_FALSE(r.segments.empty());
  EXPECT_EQ(r.segments.front().duration_ms, 2500);
  EXPECT_EQ(s.target_duration_s(), 3u);
  check_output(r, s.config());
}

// --- Parts ---------------------------------------------------------------------

struct PartCase {
  const char* name;
  MediaTimeMs segment_target_ms;
  MediaTimeMs part_target_ms;
  int64_t gop_frames;
  bool with_audio;
};

class SegmenterParts : public ::testing::TestWithParam<PartCase> {};

TEST_P(SegmenterParts, WithinPartTargetAndFirstIndependent) {
  const PartCase& c = GetParam();
  Recorder r;
  Segmenter s(config(c.segment_target_ms, c.part_target_ms), r);
  s.set_tracks(c.with_audio ? av_tracks() : video_tracks());
  push_all(s, av_stream(0, 600, every(c.gop_frames), c.with_audio));
  ASSERT_GE(r.segments.size(), 3u);
  for (const SegmentOut& seg : r.segments) {
    const std::vector<PartOut> parts = r.parts_of(seg.start.msn);
    ASSERT_FALSE(parts.empty());
    EXPECT_TRUE(parts.front().independent);
    EXPECT_GE(parts.size(), size_t(seg.duration_ms / c.part_target_ms));
  }
  const MediaTimeMs end = r.segments.back().start.start_dts + r.segments.back().duration_ms;
  uint32_t frames = 0;
  for (int64_t i = 0; frame_dts(i) < end; ++i) ++frames;
  EXPECT_EQ(r.video_frames(), frames);
  check_output(r, s.config());
}

const PartCase kPartCases[] = {
    {"default_333ms_gop1s", 2000, 333, 30, true},
    {"default_333ms_gop1500ms", 2000, 333, 45, true},
    {"part_500ms", 2000, 500, 60, true},
    {"part_200ms", 2000, 200, 30, true},
    {"part_1000ms_6s_segments", 6000, 1000, 60, true},
    {"video_only", 2000, 333, 60, false},
};

INSTANTIATE_TEST_SUITE_P(Table, SegmenterParts, ::testing::ValuesIn(kPartCases),
                         [](const auto& p) { return std::string(p.param.name); });

// 333 ms parts at 30 fps: 10 frames (333 ms), then 9 frames (300 ms) each,
// the last part of a 1.5 s segment cut short by the keyframe.
TEST(Segmenter, PartDurationsAt30Fps) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 100, every(45)));
  std::vector<MediaTimeMs> first_segment;
  for (const PartOut& p : r.parts_of(0)) first_segment.push_back(p.duration_ms);
  EXPECT_EQ(first_segment, (std::vector<MediaTimeMs>{333, 300, 300, 300, 267}));
  check_output(r, s.config());
}

// Audio between two video frames goes into the part of the frame before it,
// in order: each part's audio continues exactly where the previous part's ended.
TEST(Segmenter, AudioInterleavedIntoPartsInOrder) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  const std::vector<AvSample> samples = av_stream(0, 300, every(45));
  push_all(s, samples);
  s.flush();
  uint64_t video_samples = 0, audio_samples = 0;
  for (const PartOut& p : r.parts) {
    SCOPED_TRACE("part " + std::to_string(p.msn) + "." + std::to_string(p.index));
    const std::vector<TrackRun> runs = fragment_runs(p.bytes.span());
    ASSERT_FALSE(runs.empty());
    ASSERT_EQ(runs.front().track_id, 1u);  // video first
    const MediaTimeMs part_start = MediaTimeMs(runs.front().base_time / 90);
    video_samples += runs.front().samples;
    for (const TrackRun& run : runs) {
      if (run.track_id != 2) continue;
      // Audio frame j starts at sample j * 1024, give or take the rounding
      // of its ms timestamp (half a ms: 22 samples).
      EXPECT_LE(std::llabs(int64_t(run.base_time) - int64_t(audio_samples * 1024)), 23);
      audio_samples += run.samples;
      // The part's audio starts within one audio frame of its video.
      EXPECT_LE(std::llabs(MediaTimeMs(run.base_time * 1000 / 44100) - part_start), 24);
    }
  }
  EXPECT_EQ(video_samples, count_kind(samples, TrackKind::kVideo));
  EXPECT_EQ(audio_samples, count_kind(samples, TrackKind::kAudio));
  EXPECT_EQ(s.dropped_samples(), 0u);
  check_output(r, s.config());
}

// --- Audio-only streams --------------------------------------------------------

TEST(Segmenter, AudioOnlyCutsOnAudioFrames) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(audio_tracks());
  push_all(s, audio_stream(0, 431));  // ~10 s
  ASSERT_GE(r.segments.size(), 4u);
  for (const SegmentOut& seg : r.segments) {
    // Cut at the first frame past the target minus one frame (23 ms).
    EXPECT_GE(seg.duration_ms, 2000 - 24);
    EXPECT_LE(seg.duration_ms, 2001);
    EXPECT_EQ(seg.video_frames, 0u);
    EXPECT_TRUE(seg.start.independent);
  }
  for (const PartOut& p : r.parts) EXPECT_TRUE(p.independent);
  EXPECT_EQ(s.target_duration_s(), 2u);
  EXPECT_EQ(s.dropped_samples(), 0u);
  check_output(r, s.config());
}

TEST(Segmenter, VideoIntoAudioOnlySetIsDropped) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(audio_tracks());
  push_all(s, av_stream(0, 90, every(30)));
  EXPECT_EQ(s.dropped_samples(), 90u);
  check_output(r, s.config());
}

// --- Join points and dropped samples ---------------------------------------------

TEST(Segmenter, NothingBeforeSetTracks) {
  Recorder r;
  Segmenter s(config(), r);
  const std::vector<AvSample> samples = av_stream(0, 10, every(30));
  push_all(s, samples);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(s.dropped_samples(), samples.size());
  s.set_tracks(TrackSet{});  // no track: ignored
  EXPECT_TRUE(r.events.empty());
}

TEST(Segmenter, SamplesBeforeTheFirstKeyframeAreDropped) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  // The stream joins mid-GOP: its first keyframe is frame 20.
  const std::vector<AvSample> samples = av_stream(0, 200, at({20, 80, 140}));
  push_all(s, samples);
  size_t before = 0;
  for (const AvSample& sample : samples) before += sample.dts < frame_dts(20) ? 1 : 0;
  EXPECT_EQ(s.dropped_samples(), before);
  ASSERT_FALSE(r.starts.empty());
  EXPECT_EQ(r.starts.front().start_dts, frame_dts(20));
  EXPECT_EQ(r.starts.front().msn, 0u);
  EXPECT_FALSE(r.starts.front().discontinuity);
  check_output(r, s.config());
}

TEST(Segmenter, MalformedNalSampleDropped) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  std::vector<AvSample> samples = av_stream(0, 120, every(30));
  const size_t video_count = count_kind(samples, TrackKind::kVideo);
  // A NAL length running past the end, and a zero-length NAL.
  samples.insert(samples.begin() + 40,
                 AvSample{TrackKind::kVideo, samples[39].dts, 0, false,
                          SharedBytes::copy_of(bytes({0, 0, 0, 5, 0x41, 0x9a}))});
  samples.insert(samples.begin() + 80, AvSample{TrackKind::kVideo, samples[79].dts, 0, false,
                                                SharedBytes::copy_of(bytes({0, 0, 0, 0}))});
  push_all(s, samples);
  s.flush();
  EXPECT_EQ(s.dropped_samples(), 2u);
  EXPECT_EQ(r.video_frames(), video_count);
  check_output(r, s.config());
}

// --- Sessions and codec changes ------------------------------------------------

// A new publisher: its samples before its first keyframe are dropped; the
// segment starting there carries the discontinuity and a program date
// re-anchored on its own arrival time.
TEST(Segmenter, BeginSessionStartsADiscontinuityAtTheNextKeyframe) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  // Keyframes 0, 1, 2, 3 s: one 2 s segment, one open from 2 s; last frame 3300.
  push_all(s, av_stream(0, 100, every(30)));
  const size_t before = r.segments.size();
  ASSERT_EQ(before, 1u);
  s.begin_session();
  // The new publisher continues the timeline but joins mid-GOP: its first
  // keyframe is frame 110; its wall clock runs 5 s later.
  const std::vector<AvSample> next = av_stream(100, 250, at({110, 140, 170, 200, 230}));
  push_all(s, next, 5000);
  size_t dropped = 0;
  for (const AvSample& sample : next) dropped += sample.dts < frame_dts(110) ? 1 : 0;
  EXPECT_EQ(s.dropped_samples(), dropped);

  ASSERT_GE(r.segments.size(), before + 2);
  // The old session's open segment (from 2 s) ends with its last frame.
  const SegmentOut& old_last = r.segments[before];
  EXPECT_EQ(old_last.start.start_dts, 2000);
  EXPECT_FALSE(old_last.start.discontinuity);
  EXPECT_EQ(old_last.start.start_dts + old_last.duration_ms, frame_dts(99) + 34);
  const SegmentOut& first_new = r.segments[before + 1];
  EXPECT_TRUE(first_new.start.discontinuity);
  EXPECT_TRUE(first_new.start.independent);
  EXPECT_EQ(first_new.start.start_dts, frame_dts(110));
  EXPECT_EQ(first_new.start.program_date_ms, kWall + 5000 + frame_dts(110));
  EXPECT_EQ(first_new.start.init_id, 1u);  // same tracks: same init section
  size_t discontinuities = 0;
  for (const SegmentOut& seg : r.segments) discontinuities += seg.start.discontinuity ? 1 : 0;
  EXPECT_EQ(discontinuities, 1u);
  EXPECT_EQ(r.inits.size(), 1u);
  check_output(r, s.config());
}

// The old segment has run 1 s when the publisher goes; the new one joins
// 1.5 s before its first keyframe. The old segment must not stretch over the
// new publisher's dropped samples (which would also force a cut).
TEST(Segmenter, BeginSessionOldSegmentDoesNotStretchOverDroppedSamples) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 151, every(60)));  // segments 0-2, 2-4; open from 4 s; last frame 5 s
  ASSERT_EQ(s.target_duration_s(), 2u);
  s.begin_session();
  push_all(s, av_stream(151, 400, at({196, 256, 316, 376})));  // first keyframe at 6533
  ASSERT_GE(r.segments.size(), 4u);
  EXPECT_EQ(s.forced_cuts(), 0u);
  std::vector<uint64_t> with_discontinuity;
  for (const SegmentOut& seg : r.segments) {
    if (seg.start.discontinuity) with_discontinuity.push_back(seg.start.msn);
    EXPECT_TRUE(seg.start.independent) << seg.start.msn;
  }
  ASSERT_EQ(with_discontinuity.size(), 1u);
  const SegmentOut& first_new = r.segments[with_discontinuity[0]];
  EXPECT_EQ(first_new.start.start_dts, frame_dts(196));
  EXPECT_EQ(first_new.start.program_date_ms, kWall + frame_dts(196));
  const SegmentOut& old_last = r.segments[with_discontinuity[0] - 1];
  EXPECT_EQ(old_last.start.start_dts, 4000);
  EXPECT_EQ(old_last.start.start_dts + old_last.duration_ms, frame_dts(150) + 34);
  check_output(r, s.config());
}

// The old publisher's last GOP is long: closing its segment (last frame
// 6467 + 34 ms) crosses the 4.5 s limit of a 2 s Target Duration and forces
// a cut there. That cut belongs to the old session: the discontinuity (and
// the re-anchored program date) must stay on the new publisher's first
// segment.
TEST(Segmenter, BeginSessionDiscontinuityNotLostToAForcedCut) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 195, at({0, 60, 120})));  // open from 4 s; last frame 6467
  ASSERT_EQ(s.target_duration_s(), 2u);
  ASSERT_EQ(s.forced_cuts(), 0u);
  s.begin_session();
  push_all(s, av_stream(195, 400, at({200, 260, 320, 380})), 7000);
  EXPECT_EQ(s.forced_cuts(), 1u);
  ASSERT_GE(r.segments.size(), 5u);
  EXPECT_EQ(r.start_dts()[2], 4000);
  EXPECT_EQ(r.start_dts()[3], frame_dts(194));  // the forced cut, old session
  EXPECT_FALSE(r.segments[3].start.independent);
  EXPECT_FALSE(r.segments[3].start.discontinuity);
  EXPECT_EQ(r.segments[3].start.program_date_ms, kWall + frame_dts(194));
  const SegmentOut& first_new = r.segments[4];
  EXPECT_EQ(first_new.start.start_dts, frame_dts(200));
  EXPECT_TRUE(first_new.start.discontinuity);
  EXPECT_EQ(first_new.start.program_date_ms, kWall + 7000 + frame_dts(200));
  size_t discontinuities = 0;
  for (const SegmentOut& seg : r.segments) discontinuities += seg.start.discontinuity ? 1 : 0;
  EXPECT_EQ(discontinuities, 1u);
  check_output(r, s.config());
}

TEST(Segmenter, BeginSessionBeforeAnySegmentIsNoDiscontinuity) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  s.begin_session();
  push_all(s, av_stream(0, 100, every(30)));
  ASSERT_FALSE(r.starts.empty());
  EXPECT_FALSE(r.starts.front().discontinuity);
  check_output(r, s.config());
}

TEST(Segmenter, ChangedTracksStartANewInitAndADiscontinuity) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks(kHigh720p));
  s.set_tracks(av_tracks(kHigh720p));  // the same: nothing new
  push_all(s, av_stream(0, 100, every(30)));
  ASSERT_EQ(r.inits.size(), 1u);
  const size_t before = r.segments.size();
  // New sequence header (e.g. a resolution change), then its keyframe.
  s.set_tracks(av_tracks(kMain1080p));
  EXPECT_EQ(r.inits.size(), 1u) << "applied at the next keyframe";
  push_all(s, av_stream(100, 250, at({100, 130, 160, 190, 220})));
  ASSERT_EQ(r.inits.size(), 2u);
  EXPECT_EQ(r.inits[1].id, 2u);
  EXPECT_EQ(r.inits[1].tracks.video->width, 1920u);
  EXPECT_FALSE(std::equal(r.inits[0].bytes.span().begin(), r.inits[0].bytes.span().end(),
                          r.inits[1].bytes.span().begin(), r.inits[1].bytes.span().end()));
  ASSERT_GE(r.segments.size(), before + 2);
  // The change closes the open segment at once, its last frame lasting as
  // long as the longest recent frame interval.
  const SegmentOut& old_last = r.segments[before];
  EXPECT_EQ(old_last.start.init_id, 1u);
  EXPECT_EQ(old_last.start.start_dts + old_last.duration_ms, frame_dts(99) + 34);
  const SegmentOut& first_new = r.segments[before + 1];
  EXPECT_EQ(first_new.start.init_id, 2u);
  EXPECT_TRUE(first_new.start.discontinuity);
  EXPECT_EQ(first_new.start.start_dts, frame_dts(100));
  // on_init(2) comes right after the old segment ends, before the new one starts.
  auto init2 = std::find_if(r.events.begin(), r.events.end(), [](const Event& e) {
    return e.kind == Event::kInit && e.init_id == 2;
  });
  ASSERT_NE(init2, r.events.end());
  ASSERT_NE(init2 + 1, r.events.end());
  EXPECT_EQ((init2 + 1)->kind, Event::kStart);
  EXPECT_EQ((init2 + 1)->init_id, 2u);
  EXPECT_EQ((init2 - 1)->kind, Event::kEnd);
  EXPECT_EQ(s.dropped_samples(), 0u);
  check_output(r, s.config());
}

// Audio arrives before the video sequence header (the segmenter starts
// audio-only). Once the video track is announced, the samples that follow
// belong to the new track set: its first video keyframe is the join point
// and starts an independent segment with the new init section.
TEST(Segmenter, VideoTrackAddedAfterAudioJoinsAtItsKeyframe) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(audio_tracks());
  push_all(s, audio_stream(0, 44));  // ~1 s of audio: an open audio-only segment
  ASSERT_EQ(r.inits.size(), 1u);
  s.set_tracks(av_tracks());
  // The video's first frame (1 s) is a keyframe.
  push_all(s, av_stream(30, 200, every(30)));
  ASSERT_EQ(r.inits.size(), 2u);
  ASSERT_GE(r.segments.size(), 2u);
  const SegmentOut& first_av = r.segments[1];
  EXPECT_EQ(first_av.start.init_id, 2u);
  EXPECT_TRUE(first_av.start.discontinuity);
  EXPECT_TRUE(first_av.start.independent);
  EXPECT_EQ(first_av.start.start_dts, frame_dts(30));
  EXPECT_GT(first_av.video_frames, 0u);
  EXPECT_TRUE(r.parts_of(first_av.start.msn).front().independent);
  EXPECT_EQ(s.dropped_samples(), 0u);
  check_output(r, s.config());
}

// --- flush, wall clock ---------------------------------------------------------

TEST(Segmenter, FlushClosesTheOpenSegment) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  const std::vector<AvSample> samples = av_stream(0, 100, every(30));
  push_all(s, samples);
  const size_t before = r.segments.size();
  EXPECT_EQ(r.starts.size(), before + 1);
  s.flush();
  ASSERT_EQ(r.segments.size(), before + 1);
  EXPECT_EQ(r.events.back().kind, Event::kEnd);
  // The last frame lasts as long as the longest recent frame interval.
  const SegmentOut& last = r.segments.back();
  EXPECT_EQ(last.start.start_dts + last.duration_ms, frame_dts(99) + 34);
  EXPECT_EQ(r.video_frames(), count_kind(samples, TrackKind::kVideo));
  const size_t events = r.events.size();
  s.flush();  // nothing open: nothing more
  EXPECT_EQ(r.events.size(), events);
  check_output(r, s.config());
}

TEST(Segmenter, FlushWithoutSegmentDoesNothing) {
  Recorder r;
  Segmenter s(config(), r);
  s.flush();
  s.set_tracks(av_tracks());
  s.flush();
  EXPECT_EQ(r.events.size(), 1u);  // on_init only
  EXPECT_EQ(r.events.front().kind, Event::kInit);
}

TEST(Segmenter, InitBeforeFirstSegmentStart) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  push_all(s, av_stream(0, 70, every(30)));
  ASSERT_GE(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].kind, Event::kInit);
  EXPECT_EQ(r.events[0].init_id, 1u);
  EXPECT_EQ(r.events[1].kind, Event::kStart);
  EXPECT_EQ(r.events[1].init_id, 1u);
  EXPECT_EQ(r.inits[0].tracks.video->width, 1280u);
  EXPECT_GT(r.inits[0].bytes.size(), 0u);
  check_output(r, s.config());
}

// EXT-X-PROGRAM-DATE-TIME = the wall clock at the anchor (the first
// sample's arrival) + the media time since it; later arrival jitter does not
// move it.
TEST(Segmenter, ProgramDateFollowsDtsFromTheWallAnchor) {
  Recorder r;
  Segmenter s(config(), r);
  s.set_tracks(av_tracks());
  const std::vector<AvSample> samples = av_stream(0, 300, every(60));
  for (size_t i = 0; i < samples.size(); ++i) {
    const int64_t jitter = i == 0 ? 0 : int64_t(i % 7) * 37;
    s.push(samples[i], kWall + 250 + samples[i].dts + jitter);
  }
  ASSERT_GE(r.starts.size(), 4u);
  for (const SegmentStart& start : r.starts) {
    EXPECT_EQ(start.program_date_ms, kWall + 250 + start.start_dts) << start.msn;
  }
  check_output(r, s.config());
}

}  // namespace
}  // namespace cascade::hls
