#include "live/timeline.h"

#include <gtest/gtest.h>

namespace cascade::live {
namespace {

using media::TrackKind;

TEST(Timeline, NewStreamKeepsPublisherTimestamps) {
  Timeline t;
  t.begin_session();
  EXPECT_EQ(t.map(TrackKind::kVideo, 0), 0);
  EXPECT_EQ(t.map(TrackKind::kAudio, 23), 23);
  EXPECT_EQ(t.map(TrackKind::kVideo, 33), 33);
}

TEST(Timeline, UnwrapsThirtyTwoBitWrap) {
  Timeline t;
  t.begin_session();
  EXPECT_EQ(t.map(TrackKind::kVideo, 0xFFFFFFF0u), 0xFFFFFFF0ll);
  EXPECT_EQ(t.map(TrackKind::kVideo, 0x10u), 0x100000010ll);
}

TEST(Timeline, ReconnectContinuesAfterLastFrame) {
  Timeline t;
  t.begin_session();
  t.map(TrackKind::kVideo, 5000);
  t.begin_session();  // the new publisher starts again at 0
  EXPECT_EQ(t.map(TrackKind::kVideo, 0), 5001);
  EXPECT_EQ(t.map(TrackKind::kVideo, 40), 5041);
}

TEST(Timeline, LargeJumpIsRebased) {
  Timeline t(10'000);
  t.begin_session();
  t.map(TrackKind::kVideo, 1000);
  EXPECT_EQ(t.map(TrackKind::kVideo, 900'000), 1001);
  EXPECT_EQ(t.map(TrackKind::kVideo, 900'040), 1041);
}

TEST(Timeline, DecodeTimeNeverGoesBackPerTrack) {
  Timeline t;
  t.begin_session();
  EXPECT_EQ(t.map(TrackKind::kAudio, 100), 100);
  EXPECT_EQ(t.map(TrackKind::kAudio, 90), 100);
  EXPECT_EQ(t.clamped(), 1u);
  // Other tracks are independent: video may trail audio.
  EXPECT_EQ(t.map(TrackKind::kVideo, 95), 95);
}

}  // namespace
}  // namespace cascade::live
