#include "media/mp4_segment_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace cascade::media {
namespace {

// An Mp4Source over bytes that counts its reads.
class CountingSource final : public Mp4Source {
 public:
  explicit CountingSource(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    ++reads;
    if (offset >= bytes_.size()) return size_t{0};
    const size_t n = std::min<size_t>(out.size(), bytes_.size() - offset);
    std::copy_n(bytes_.begin() + static_cast<ptrdiff_t>(offset), n, out.begin());
    return n;
  }
  uint64_t size() const override { return bytes_.size(); }
  int reads = 0;

 private:
  std::vector<uint8_t> bytes_;
};

// A file of interleaved chunks, one second each: 30 video samples (90 kHz,
// 3000 ticks, keyframe every 30, presentation one frame later via ctts
// and the edit list), then 43 AAC frames (44.1 kHz). Each sample's bytes
// are its track's tag then its index.
struct Fixture {
  Mp4Index index;
  std::vector<uint8_t> file;

  explicit Fixture(int seconds) {
    Mp4Track v, a;
    v.kind = Mp4TrackKind::kVideo;
    v.timescale = 90000;
    v.all_sync = false;
    v.media_start = 3000;
    a.kind = Mp4TrackKind::kAudio;
    a.timescale = 44100;
    file.assign(64, 0);
    for (int second = 0; second < seconds; ++second) {
      for (int i = 0; i < 30; ++i) {
        const uint32_t n = static_cast<uint32_t>(v.sample_count());
        if (i == 0) v.chunk_offsets.push_back(file.size());  // a chunk per second
        const uint32_t size = 5 + n % 7;
        v.sample_sizes.push_back(size);
        v.sample_cts_offsets.push_back(n % 2 ? 6000 : 3000);
        if (n % 30 == 0) v.sync_samples.push_back(n);
        for (uint32_t b = 0; b < size; ++b) file.push_back(static_cast<uint8_t>(b == 0 ? 'V' : n));
      }
      for (int i = 0; i < 43; ++i) {
        const uint32_t n = static_cast<uint32_t>(a.sample_count());
        if (i == 0) a.chunk_offsets.push_back(file.size());
        a.sample_sizes.push_back(3);
        file.insert(file.end(), {'A', static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8)});
      }
    }
    v.stts = {{0, static_cast<uint32_t>(v.sample_count()), 3000, 0}};
    v.chunk_runs = {{0, 0, 30, 1}};
    a.stts = {{0, static_cast<uint32_t>(a.sample_count()), 1024, 0}};
    a.chunk_runs = {{0, 0, 43, 1}};
    v.media_duration = v.sample_count() * 3000;
    v.max_cts_offset = 6000;
    v.min_cts_offset = 3000;
    v.presentation_end = int64_t(v.media_duration) + 6000;
    a.media_duration = a.sample_count() * 1024;
    a.presentation_end = int64_t(a.media_duration);
    index.movie_timescale = 1000;
    index.tracks = {v, a};
  }
};

TEST(Mp4SegmentReader, ReadsEachSegmentsSamplesOnThePlansTimeline) {
  Fixture f(6);
  auto plan = plan_mp4_segments(f.index, {2000});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->segments.size(), 3u);
  CountingSource source(f.file);
  const Mp4Track& v = f.index.tracks[0];
  const Mp4Track& a = f.index.tracks[1];
  MediaTimeMs last_video_dts = -1, last_audio_dts = -1;
  for (size_t n = 0; n < plan->segments.size(); ++n) {
    source.reads = 0;
    auto samples = read_mp4_segment(f.index, *plan, n, source, {});
    ASSERT_TRUE(samples.ok()) << samples.error().message;
    const Mp4PlannedSegment& planned = plan->segments[n];
    ASSERT_EQ(samples->video.size(), planned.video.size());
    ASSERT_EQ(samples->audio.size(), planned.audio.size());
    EXPECT_EQ(samples->bytes, planned.bytes);
    // Video and audio chunks alternate: one read per chunk.
    EXPECT_LE(source.reads, 6);
    EXPECT_TRUE(samples->video.front().keyframe);
    for (size_t i = 0; i < samples->video.size(); ++i) {
      const AvSample& s = samples->video[i];
      const uint32_t number = planned.video.first + static_cast<uint32_t>(i);
      EXPECT_EQ(s.kind, TrackKind::kVideo);
      ASSERT_EQ(s.data.size(), v.sample_sizes[number]);
      EXPECT_EQ(s.data[0], 'V');
      EXPECT_EQ(s.data[1], static_cast<uint8_t>(number));
      EXPECT_EQ(s.keyframe, number % 30 == 0);
      EXPECT_GT(s.dts, last_video_dts);  // continues across segments
      last_video_dts = s.dts;
      EXPECT_EQ(s.dts + s.cts_ms, plan->video_timeline.presentation_ms(v, number));
      EXPECT_GE(s.cts_ms, 0);
    }
    EXPECT_EQ(samples->video_end_dts, plan->video_timeline.decode_ms(v, planned.video.end));
    for (size_t i = 0; i < samples->audio.size(); ++i) {
      const AvSample& s = samples->audio[i];
      const uint32_t number = planned.audio.first + static_cast<uint32_t>(i);
      ASSERT_EQ(s.data.size(), 3u);
      EXPECT_EQ(s.data[0], 'A');
      EXPECT_EQ(s.data[1] | s.data[2] << 8, static_cast<int>(number));
      EXPECT_TRUE(s.keyframe);
      EXPECT_GT(s.dts, last_audio_dts);
      last_audio_dts = s.dts;
      EXPECT_EQ(s.dts, plan->audio_timeline.decode_ms(a, number));
    }
  }
  // The first frame is presented at 0 (its edit), one frame after it decodes.
  auto first = read_mp4_segment(f.index, *plan, 0, source, {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->video[0].dts + first->video[0].cts_ms, plan->offset_ms);
}

TEST(Mp4SegmentReader, RefusesLargeSegmentsAndShortFiles) {
  Fixture f(4);
  auto plan = plan_mp4_segments(f.index, {2000});
  ASSERT_TRUE(plan.ok());
  CountingSource source(f.file);
  auto large = read_mp4_segment(f.index, *plan, 0, source, {.max_bytes = 100});
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().message, "segment 0 holds 735 bytes of samples, over the limit of 100");
  // 60 video and 87 audio samples.
  auto many = read_mp4_segment(f.index, *plan, 0, source, {.max_samples = 100});
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().message, "segment 0 holds 147 samples, over the limit of 100");
  EXPECT_EQ(source.reads, 0);  // nothing allocated or read
  std::vector<uint8_t> truncated(f.file.begin(), f.file.begin() + f.file.size() / 2);
  CountingSource short_source(truncated);
  auto last = read_mp4_segment(f.index, *plan, plan->segments.size() - 1, short_source, {});
  ASSERT_FALSE(last.ok());
  EXPECT_NE(last.error().message.find("ended"), std::string::npos) << last.error().message;
}

}  // namespace
}  // namespace cascade::media
