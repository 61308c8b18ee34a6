#include "vod/vod_hls_playlist.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "vod/vod_hls_test_media.h"

namespace cascade::vod {
namespace {

using testing::make_test_media;

TEST(VodHlsPlaylist, MediaPlaylists) {
  // 12.5 s, 2 s GOPs, 6 s target: cuts at 6 and 12 s; the last 0.5 s joins
  // the second segment, which the audio (539 frames, 12.516 s) ends.
  const auto media = make_test_media(375, 60);
  auto plan = make_vod_hls_plan(media.index, 6000);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(render_vod_media_playlist(plan.value(), VodHlsContainer::kFmp4, "V1"),
            "#EXTM3U\n"
            "#EXT-X-VERSION:6\n"
            "#EXT-X-TARGETDURATION:7\n"
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-MAP:URI=\"init.mp4?v=V1\"\n"
            "#EXTINF:6.000,\n"
            "s0.m4s?v=V1\n"
            "#EXTINF:6.516,\n"
            "s1.m4s?v=V1\n"
            "#EXT-X-ENDLIST\n");
  EXPECT_EQ(render_vod_media_playlist(plan.value(), VodHlsContainer::kTs, "V1"),
            "#EXTM3U\n"
            "#EXT-X-VERSION:3\n"
            "#EXT-X-TARGETDURATION:7\n"
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXTINF:6.000,\n"
            "s0.ts?v=V1\n"
            "#EXTINF:6.516,\n"
            "s1.ts?v=V1\n"
            "#EXT-X-ENDLIST\n");
}

TEST(VodHlsPlaylist, TargetDurationRoundsTheLongestSegmentUp) {
  // 4 s GOPs, 5 s target: 4 s segments and a last one of 4.005 s.
  const auto media = make_test_media(360, 120);
  auto plan = make_vod_hls_plan(media.index, 5000);
  ASSERT_TRUE(plan.ok());
  const std::string text = render_vod_media_playlist(plan.value(), VodHlsContainer::kTs, "x");
  EXPECT_NE(text.find("#EXT-X-TARGETDURATION:5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXTINF:4.000,\ns0.ts?v=x\n"), std::string::npos) << text;
}

TEST(VodHlsPlaylist, NoIndependentSegmentsWhenOneStartsWithoutAKeyframe) {
  auto media = make_test_media(180, 60);
  media.index.tracks[0].sync_samples.erase(media.index.tracks[0].sync_samples.begin());
  auto plan = make_vod_hls_plan(media.index, 2000);
  ASSERT_TRUE(plan.ok());
  const std::string text = render_vod_media_playlist(plan.value(), VodHlsContainer::kFmp4, "x");
  EXPECT_EQ(text.find("INDEPENDENT"), std::string::npos) << text;
}

TEST(VodHlsPlaylist, MasterListsBothContainersWithIdenticalAttributes) {
  const auto media = make_test_media(375, 60);
  auto plan = make_vod_hls_plan(media.index, 6000);
  ASSERT_TRUE(plan.ok());
  const VodHlsPlan& p = plan.value();
  uint64_t peak = 0, total = 0;
  for (size_t i = 0; i < p.sizes.size(); ++i) {
    peak = std::max<uint64_t>(peak, p.sizes[i].ts * 8000 / p.plan.segments[i].duration_ms);
    total += p.sizes[i].ts;
  }
  const std::string attributes = fmt::format(
      "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"avc1.64001f,mp4a.40.2\","
      "RESOLUTION=1280x720,FRAME-RATE=30.000\n",
      peak, total * 8000 / p.plan.duration_ms());
  EXPECT_EQ(render_vod_master_playlist(p),
            "#EXTM3U\n#EXT-X-VERSION:6\n" + attributes + "index.m3u8\n" + attributes + "ts.m3u8\n");
  // Audio only: no RESOLUTION or FRAME-RATE.
  auto audio = make_test_media(300, 60);
  audio.index.tracks.erase(audio.index.tracks.begin());
  auto audio_plan = make_vod_hls_plan(audio.index, 6000);
  ASSERT_TRUE(audio_plan.ok()) << audio_plan.error().message;
  const std::string master = render_vod_master_playlist(audio_plan.value());
  EXPECT_NE(master.find("CODECS=\"mp4a.40.2\"\n"), std::string::npos) << master;
  EXPECT_EQ(master.find("RESOLUTION"), std::string::npos);
}

}  // namespace
}  // namespace cascade::vod
