#include "protocols/hls/master_playlist.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::hls {
namespace {

Variant video_variant() {
  Variant v;
  v.bandwidth = 2'500'000;
  v.average_bandwidth = 2'000'000;
  v.codecs = "avc1.64001f,mp4a.40.2";
  v.width = 1280;
  v.height = 720;
  v.frame_rate = 30000.0 / 1001;
  v.uri = "cam1/index.m3u8";
  return v;
}

Variant audio_only_variant() {
  Variant v;
  v.bandwidth = 140'000;
  v.codecs = "mp4a.40.2";
  v.uri = "cam1/ts.m3u8";
  return v;
}

TEST(MasterPlaylist, Golden) {
  EXPECT_EQ(render_master_playlist({video_variant(), audio_only_variant()}), R"(#EXTM3U
#EXT-X-VERSION:6
#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970
cam1/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"
cam1/ts.m3u8
)");
}

TEST(MasterPlaylist, NoVariants) {
  EXPECT_EQ(render_master_playlist({}), "#EXTM3U\n#EXT-X-VERSION:6\n");
}

// Only BANDWIDTH is required (8216bis 4.4.6.2); the rest is omitted when unknown.
TEST(MasterPlaylist, OptionalAttributesOmitted) {
  Variant v;
  v.bandwidth = 1;
  v.uri = "x.m3u8";
  EXPECT_EQ(render_master_playlist({v}),
            "#EXTM3U\n#EXT-X-VERSION:6\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n");
}

// RESOLUTION needs both dimensions (audio-only variants have none).
TEST(MasterPlaylist, ResolutionNeedsBothDimensions) {
  Variant v = video_variant();
  v.height = 0;
  EXPECT_EQ(render_master_playlist({v}).find("RESOLUTION"), std::string::npos);
  v = video_variant();
  v.width = 0;
  EXPECT_EQ(render_master_playlist({v}).find("RESOLUTION"), std::string::npos);
  v = video_variant();
  v.width = 3840;
  v.height = 2160;
  EXPECT_NE(render_master_playlist({v}).find(",RESOLUTION=3840x2160,"), std::string::npos);
}

// 8216bis 4.4.6.2: FRAME-RATE is rounded to three decimal places.
TEST(MasterPlaylist, FrameRateThreeDecimals) {
  struct Case {
    double fps;
    const char* text;
  };
  const Case cases[] = {
      {30000.0 / 1001, "29.970"},
      {60000.0 / 1001, "59.940"},
      {24000.0 / 1001, "23.976"},
      {25, "25.000"},
      {30, "30.000"},
      {59.9999, "60.000"},
      {0.5, "0.500"},
      {120, "120.000"},
  };
  for (const Case& c : cases) {
    Variant v = video_variant();
    v.frame_rate = c.fps;
    const std::string text = render_master_playlist({v});
    EXPECT_NE(text.find(std::string(",FRAME-RATE=") + c.text + "\n"), std::string::npos)
        << c.fps << "\n"
        << text;
  }
  Variant v = video_variant();
  v.frame_rate = 0;
  EXPECT_EQ(render_master_playlist({v}).find("FRAME-RATE"), std::string::npos);
}

TEST(MasterPlaylist, VariantsInOrder) {
  Variant low = video_variant();
  low.bandwidth = 800'000;
  low.uri = "low.m3u8";
  Variant high = video_variant();
  high.uri = "high.m3u8";
  const std::string text = render_master_playlist({high, low});
  EXPECT_LT(text.find("high.m3u8"), text.find("low.m3u8"));
  EXPECT_NE(text.find("#EXT-X-STREAM-INF:BANDWIDTH=800000,"), std::string::npos);
}

}  // namespace
}  // namespace cascade::hls
