#include "vod/vod_hls_plan.h"

#include <gtest/gtest.h>

#include <vector>

#include "media/fmp4_writer.h"
#include "media/mp4_segment_reader.h"
#include "media/mpegts_muxer.h"
#include "vod/vod_hls_plan_cache.h"
#include "vod/vod_hls_test_media.h"

namespace cascade::vod {
namespace {

using testing::make_test_media;

TEST(VodHlsPlan, TracksFromTheSampleDescriptionsAndAFrameRate) {
  const auto media = make_test_media(300, 60);
  auto plan = make_vod_hls_plan(media.index, 6000);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const VodHlsPlan& p = plan.value();
  ASSERT_TRUE(p.tracks.video && p.tracks.audio);
  EXPECT_EQ(p.tracks.video->codec_string, "avc1.64001f");
  EXPECT_EQ(p.tracks.audio->codec_string, "mp4a.40.2");
  EXPECT_DOUBLE_EQ(p.frame_rate, 30.0);
  EXPECT_EQ(p.sizes.size(), p.plan.segments.size());
  EXPECT_GT(p.memory_bytes(), sizeof(VodHlsPlan));
}

// The size estimates behind BANDWIDTH against what the muxers write: fMP4
// exactly, MPEG-TS never less and within 3%.
TEST(VodHlsPlan, SegmentSizesMatchTheMuxers) {
  for (bool b_frames : {false, true}) {
    for (bool with_audio : {true, false}) {
      const auto media = make_test_media(450, 60, b_frames, with_audio);
      auto plan = make_vod_hls_plan(media.index, 4000);
      ASSERT_TRUE(plan.ok()) << plan.error().message;
      const VodHlsPlan& p = plan.value();
      media::Mp4MemorySource source(media.file);
      for (size_t n = 0; n < p.plan.segments.size(); ++n) {
        auto samples = media::read_mp4_segment(media.index, p.plan, n, source, {});
        ASSERT_TRUE(samples.ok()) << samples.error().message;
        media::Fmp4FragmentInput input;
        input.sequence_number = static_cast<uint32_t>(n + 1);
        input.video = samples->video;
        input.video_end_dts = samples->video_end_dts;
        input.audio = samples->audio;
        EXPECT_EQ(media::write_fmp4_fragment(p.tracks, input).size(), p.sizes[n].fmp4) << n;
        media::TsMuxer muxer(p.tracks);
        std::vector<uint8_t> ts;
        muxer.write_tables(ts);
        for (const auto& sample : samples->video) ASSERT_TRUE(muxer.write_sample(sample, ts));
        for (const auto& sample : samples->audio) ASSERT_TRUE(muxer.write_sample(sample, ts));
        EXPECT_GE(p.sizes[n].ts, ts.size()) << n;
        EXPECT_LE(p.sizes[n].ts, ts.size() * 103 / 100) << n;
      }
    }
  }
}

TEST(VodHlsPlan, RefusesCodecsTheMuxersCannotCarry) {
  auto media = make_test_media(60, 30);
  media.index.tracks[1].stsd = testing::mp4a_stsd(0xA5);  // AC-3
  auto plan = make_vod_hls_plan(media.index, 6000);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message,
            "audio track 2: audio objectTypeIndication 0xa5 is not supported (AAC and MP3 are)");
  media.index.tracks.clear();
  EXPECT_FALSE(make_vod_hls_plan(media.index, 6000).ok());
}

TEST(VodHlsPlanCache, CachesByIdentityWithinASixteenthOfTheIndexBudget) {
  const auto media = make_test_media(300, 60);
  auto one = make_vod_hls_plan(media.index, 6000);
  ASSERT_TRUE(one.ok());
  const size_t plan_bytes = one.value().memory_bytes();
  // Room for two plans and a half.
  VodHlsPlanCache cache((plan_bytes * 2 + plan_bytes / 2) * 16);
  auto a = cache.get({1, 1, 100, 5}, media.index, 6000);
  auto again = cache.get({1, 1, 100, 5}, media.index, 6000);
  ASSERT_TRUE(a.ok() && again.ok());
  EXPECT_EQ(a.value().get(), again.value().get());
  EXPECT_EQ(cache.bytes(), plan_bytes);
  // A new version of the file is a new entry; a third evicts the oldest.
  auto b = cache.get({1, 1, 100, 6}, media.index, 6000);
  auto c = cache.get({1, 2, 100, 5}, media.index, 6000);
  ASSERT_TRUE(b.ok() && c.ok());
  EXPECT_NE(a.value().get(), b.value().get());
  EXPECT_EQ(cache.bytes(), plan_bytes * 2);
  auto a_again = cache.get({1, 1, 100, 5}, media.index, 6000);
  ASSERT_TRUE(a_again.ok());
  EXPECT_NE(a.value().get(), a_again.value().get());
  // Another segment target (another root): a plan of its own, not cached.
  auto other_target = cache.get({1, 1, 100, 5}, media.index, 2000);
  ASSERT_TRUE(other_target.ok());
  EXPECT_EQ(other_target.value()->segment_target_ms, 2000);
  EXPECT_GT(other_target.value()->plan.segments.size(), a_again.value()->plan.segments.size());
  EXPECT_EQ(cache.get({1, 1, 100, 5}, media.index, 6000).value().get(), a_again.value().get());
  // Failures are kept too (a broken file is planned once per version),
  // charged to the same budget: here the oldest plan makes room.
  auto broken = media;
  broken.index.tracks[0].stsd = testing::mp4a_stsd();
  auto failed = cache.get({9, 9, 9, 9}, broken.index, 6000);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(cache.get({9, 9, 9, 9}, broken.index, 6000).error().message, failed.error().message);
  const size_t failure_bytes =
      FileIndexCache<VodHlsPlan>::kFailureBytes + failed.error().message.size();
  ASSERT_GT(plan_bytes * 2 + failure_bytes, (plan_bytes * 2 + plan_bytes / 2));
  EXPECT_EQ(cache.bytes(), plan_bytes + failure_bytes);
}

}  // namespace
}  // namespace cascade::vod
