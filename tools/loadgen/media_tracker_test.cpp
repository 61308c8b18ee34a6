#include "loadgen/media_tracker.h"

#include <gtest/gtest.h>

#include <vector>

#include "loadgen/histograms.h"

namespace cascade::loadgen {
namespace {

using Bytes = std::vector<uint8_t>;

// FLV spec E.4.3.1: AVC video tag headers; E.4.2.1: AAC audio.
const Bytes kAvcConfig = {0x17, 0x00, 0, 0, 0, 1, 0x64};
const Bytes kAvcKey = {0x17, 0x01, 0, 0, 0, 0, 0, 0};
const Bytes kAvcInter = {0x27, 0x01, 0, 0, 0x21, 0, 0, 0};
const Bytes kAacConfig = {0xAF, 0x00, 0x12, 0x10};
const Bytes kAacRaw = {0xAF, 0x01, 0x21, 0x1A};

constexpr int64_t kMs = 1000;

Status video(MediaTracker& t, const Bytes& head, uint32_t ts, int64_t now_ms, uint32_t length = 0) {
  return t.on_video(ts, head, length ? length : static_cast<uint32_t>(head.size()), now_ms * kMs);
}
Status audio(MediaTracker& t, const Bytes& head, uint32_t ts, int64_t now_ms) {
  return t.on_audio(ts, head, static_cast<uint32_t>(head.size()), now_ms * kMs);
}

TEST(MediaTracker, CountsFramesButNotSequenceHeaders) {
  DeltaHistogram deltas;
  MediaTracker t(&deltas, nullptr);
  ASSERT_TRUE(video(t, kAvcConfig, 0, 100));
  ASSERT_TRUE(audio(t, kAacConfig, 0, 100));
  ASSERT_TRUE(video(t, kAvcKey, 0, 100, 5000));  // only the head was kept
  ASSERT_TRUE(audio(t, kAacRaw, 10, 101));
  ASSERT_TRUE(video(t, kAvcInter, 33, 133));
  ASSERT_TRUE(video(t, kAvcInter, 67, 167));
  EXPECT_EQ(t.video_frames(), 3u);
  EXPECT_EQ(t.audio_frames(), 1u);
  EXPECT_EQ(t.first_video_us(), 100 * kMs);
  EXPECT_EQ(t.first_audio_us(), 101 * kMs);
  EXPECT_FALSE(t.first_video_not_keyframe());
  EXPECT_FALSE(t.missing_sequence_header());
  EXPECT_EQ(t.timestamp_violations(), 0u);
  EXPECT_EQ(deltas.count(), 2u);
}

TEST(MediaTracker, FirstVideoFrameMustBeAKeyframe) {
  MediaTracker t;
  ASSERT_TRUE(video(t, kAvcConfig, 0, 0));
  ASSERT_TRUE(video(t, kAvcInter, 0, 0));
  ASSERT_TRUE(video(t, kAvcKey, 33, 33));
  EXPECT_TRUE(t.first_video_not_keyframe());
}

TEST(MediaTracker, KeyframeWithoutSequenceHeaderIsNoted) {
  MediaTracker t;
  ASSERT_TRUE(video(t, kAvcKey, 0, 0));
  EXPECT_TRUE(t.missing_sequence_header());
  EXPECT_FALSE(t.first_video_not_keyframe());
}

TEST(MediaTracker, TimestampsMonotonicPerTrack) {
  MediaTracker t;
  ASSERT_TRUE(video(t, kAvcKey, 100, 0));
  ASSERT_TRUE(audio(t, kAacRaw, 90, 0));     // other track: no violation
  ASSERT_TRUE(video(t, kAvcInter, 100, 0));  // equal: fine
  ASSERT_TRUE(video(t, kAvcInter, 99, 0));   // back: 1
  ASSERT_TRUE(audio(t, kAacRaw, 80, 0));     // back: 2
  ASSERT_TRUE(audio(t, kAacRaw, 81, 0));
  EXPECT_EQ(t.timestamp_violations(), 2u);
}

TEST(MediaTracker, TimestampWrapIsNotAViolation) {
  MediaTracker t;
  ASSERT_TRUE(video(t, kAvcKey, 0xFFFFFFF0u, 0));
  ASSERT_TRUE(video(t, kAvcInter, 0x10, 32));
  EXPECT_EQ(t.timestamp_violations(), 0u);
  EXPECT_EQ(t.lag_max_ms(), 0);
}

TEST(MediaTracker, LagIsDriftAboveTheBestSoFar) {
  MediaTracker t;
  // A GOP-cache burst: frames 0..3 (100 ms of media) arrive at once (drift
  // falls to -100 ms: not lag), then real time, then delivery falls 300 ms
  // behind the viewer's best.
  ASSERT_TRUE(video(t, kAvcKey, 1000, 5000));
  ASSERT_TRUE(video(t, kAvcInter, 1033, 5000));
  ASSERT_TRUE(video(t, kAvcInter, 1067, 5000));
  ASSERT_TRUE(video(t, kAvcInter, 1100, 5000));
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(video(t, kAvcInter, 1100 + i * 10, 5000 + i * 10));  // drift -100: lag 0
  }
  ASSERT_TRUE(video(t, kAvcInter, 2110, 5000 + 1110 + 200));  // drift +200: lag 300
  EXPECT_EQ(t.lag_max_ms(), 300);
  EXPECT_EQ(t.lag().count(), 105u);
  EXPECT_EQ(t.lag().percentile(0.5), 0);
  EXPECT_EQ(t.lag().percentile(1.0), 300);  // clamped to the exact maximum
}

TEST(MediaTracker, BrokenHeaders) {
  MediaTracker t;
  EXPECT_FALSE(video(t, Bytes{0x17, 0x01}, 0, 0));        // AVC header cut short, whole body
  EXPECT_TRUE(t.on_video(0, Bytes{0x17, 0x01}, 100, 0));  // only the prefix kept: lenient
  EXPECT_FALSE(audio(t, Bytes{0xAF}, 0, 0));
  EXPECT_TRUE(t.on_video(0, {}, 0, 0));  // empty: ignored
}

TEST(DriftHistogram, BucketsAndPercentiles) {
  for (int64_t v : {0, 1, 15, 16, 17, 31, 32, 100, 1000, 12345, 1 << 20}) {
    int b = DriftHistogram::bucket(static_cast<uint64_t>(v));
    int64_t mid = DriftHistogram::bucket_mid(b);
    EXPECT_LE(std::abs(mid - v), std::max<int64_t>(1, v / 8)) << v;
  }
  EXPECT_EQ(DriftHistogram::bucket(uint64_t{1} << 40), DriftHistogram::kBuckets - 1);
  DriftHistogram h;
  EXPECT_FALSE(h.percentile(0.5));
  for (int i = -50; i < 50; ++i) h.add(i);
  EXPECT_NEAR(static_cast<double>(*h.percentile(0.01)), -50, 3);
  EXPECT_EQ(h.min(), -50);
  EXPECT_EQ(h.max(), 49);
  EXPECT_EQ(*h.percentile(1.0), 49);
  EXPECT_LE(*h.percentile(0.5), 0);
  EXPECT_GE(*h.percentile(0.95), 40);
}

TEST(DeltaHistogram, TypicalDeltaRefinesTheMedian) {
  DeltaHistogram h;
  EXPECT_FALSE(h.typical_ms());
  for (int i = 0; i < 300; ++i) h.add(i % 3 == 0 ? 34 : 33);  // 30 fps in whole ms
  h.add(1000);  // a skip: counted, but far from the median
  h.add(0);     // not counted
  auto typical = h.typical_ms();
  ASSERT_TRUE(typical);
  EXPECT_NEAR(*typical, 33.33, 0.01);
  DeltaHistogram other;
  other.merge(h);
  EXPECT_EQ(other.count(), 301u);
}

}  // namespace
}  // namespace cascade::loadgen
