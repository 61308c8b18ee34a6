#include "vod/throttle.h"

#include <gtest/gtest.h>

namespace cascade::vod {
namespace {

using std::chrono::milliseconds;
using Clock = TokenBucket::Clock;

// A fake clock: the bucket only ever sees the times passed in.
const Clock::time_point kStart{std::chrono::seconds(1000)};

TEST(TokenBucket, StartsFullThenPacesAtTheRate) {
  TokenBucket bucket(100'000, 500'000, kStart);  // 100 KB/s, 500 KB burst
  EXPECT_EQ(bucket.min_grant_bytes(), 10'000u);
  auto g = bucket.grant(1'000'000, kStart);
  EXPECT_EQ(g.bytes, 500'000u);
  bucket.consume(g.bytes);
  g = bucket.grant(1'000'000, kStart);
  EXPECT_EQ(g.bytes, 0u);
  EXPECT_NEAR(g.wait.count(), 100e6, 1e3);  // ns, until one min grant accrues
  g = bucket.grant(1'000'000, kStart + milliseconds(100));
  EXPECT_EQ(g.bytes, 10'000u);
  bucket.consume(g.bytes);
  // Over a simulated minute the bytes granted follow the rate.
  Clock::time_point now = kStart + milliseconds(100);
  uint64_t sent = 0;
  int wakeups = 0;
  while (now < kStart + milliseconds(60'100)) {
    g = bucket.grant(1'000'000, now);
    if (g.bytes > 0) {
      bucket.consume(g.bytes);
      sent += g.bytes;
    } else {
      now += g.wait;
      ++wakeups;
    }
  }
  EXPECT_NEAR(static_cast<double>(sent), 6'000'000, 10'000);
  EXPECT_LE(wakeups, 600);  // about ten a second, not one per byte
}

TEST(TokenBucket, RefillsNoFurtherThanTheBurst) {
  TokenBucket bucket(1'000, 5'000, kStart);
  bucket.consume(bucket.grant(100'000, kStart).bytes);
  // An hour idle (a paused player) earns one burst, not an hour of bytes.
  EXPECT_EQ(bucket.grant(100'000, kStart + std::chrono::hours(1)).bytes, 5'000u);
}

TEST(TokenBucket, SmallWantsAreGrantedWhole) {
  TokenBucket bucket(1'000'000, 2'000'000, kStart);
  EXPECT_EQ(bucket.grant(17, kStart).bytes, 17u);
}

TEST(TokenBucket, AnOverdraftIsRepaidFirst) {
  TokenBucket bucket(10'000, 10'000, kStart);  // min grant 1 KiB
  bucket.consume(30'000);                      // a head written whole: 20 KB of debt
  auto g = bucket.grant(5'000, kStart);
  EXPECT_EQ(g.bytes, 0u);
  EXPECT_NEAR(g.wait.count(), 2.1024e9, 1e3);  // ns: 21,024 bytes at 10 KB/s
  EXPECT_GT(bucket.grant(5'000, kStart + g.wait).bytes, 0u);
}

TEST(TokenBucket, TimeGoingBackwardsChangesNothing) {
  TokenBucket bucket(1'000, 1'024, kStart);
  bucket.consume(1'024);
  EXPECT_EQ(bucket.grant(100, kStart - std::chrono::seconds(5)).bytes, 0u);
  EXPECT_EQ(bucket.grant(100, kStart + milliseconds(100)).bytes, 100u);
}

TEST(TokenBucket, DegenerateSettingsStillMakeProgress) {
  // No burst and a zero rate: capacity is raised to one grant, rate to 1 B/s.
  TokenBucket bucket(0, 0, kStart);
  EXPECT_EQ(bucket.rate_bytes_per_s(), 1.0);
  EXPECT_EQ(bucket.capacity_bytes(), 1024.0);
  auto g = bucket.grant(1 << 20, kStart);
  EXPECT_EQ(g.bytes, 1024u);
  bucket.consume(g.bytes);
  g = bucket.grant(1 << 20, kStart);
  EXPECT_EQ(g.bytes, 0u);
  EXPECT_GT(g.wait, std::chrono::seconds(0));
}

TEST(MediaPacer, BurstIsSecondsOfMediaAndRateIsBitrateTimesFactor) {
  // 2 Mbit/s = 250 KB/s of media.
  TokenBucket bucket = make_media_pacer(2'000'000, 1.5, 5, kStart);
  EXPECT_DOUBLE_EQ(bucket.rate_bytes_per_s(), 375'000);
  EXPECT_DOUBLE_EQ(bucket.capacity_bytes(), 1'250'000);
}

}  // namespace
}  // namespace cascade::vod
