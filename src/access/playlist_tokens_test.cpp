#include "access/playlist_tokens.h"

#include <gtest/gtest.h>

namespace cascade::access {
namespace {

constexpr std::string_view kToken = "expires=9&sig=ab";

TEST(PlaylistTokens, MasterPlaylistVariantUris) {
  const std::string master =
      "#EXTM3U\n#EXT-X-VERSION:7\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f\"\ndemo/index.m3u8\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",URI=\"demo/a.m3u8\"\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=10,URI=\"i.m3u8?x=1\"\n";
  EXPECT_EQ(
      append_query_to_playlist_uris(master, kToken),
      "#EXTM3U\n#EXT-X-VERSION:7\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f\"\n"
      "demo/index.m3u8?expires=9&sig=ab\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",URI=\"demo/a.m3u8?expires=9&sig=ab\"\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=10,URI=\"i.m3u8?x=1&expires=9&sig=ab\"\n");
}

TEST(PlaylistTokens, MediaPlaylistEveryUri) {
  const std::string media =
      "#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n"
      "#EXT-X-MAP:URI=\"7/init0.mp4\"\r\n"
      "#EXT-X-PART:DURATION=0.333,URI=\"7/p5.0.m4s\",INDEPENDENT=YES\r\n"
      "#EXTINF:2.000,\r\n7/s5.m4s\r\n"
      "# a comment with URI=\"x\"\r\n"
      "\r\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"7/p6.0.m4s\"\r\n"
      "#EXT-X-RENDITION-REPORT:URI=\"../other/index.m3u8\",LAST-MSN=5\r\n"
      "#EXT-X-FOO:XURI=\"not-a-uri\"";
  EXPECT_EQ(append_query_to_playlist_uris(media, kToken),
            "#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n"
            "#EXT-X-MAP:URI=\"7/init0.mp4?expires=9&sig=ab\"\r\n"
            "#EXT-X-PART:DURATION=0.333,URI=\"7/p5.0.m4s?expires=9&sig=ab\",INDEPENDENT=YES\r\n"
            "#EXTINF:2.000,\r\n7/s5.m4s?expires=9&sig=ab\r\n"
            "# a comment with URI=\"x\"\r\n"
            "\r\n"
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"7/p6.0.m4s?expires=9&sig=ab\"\r\n"
            "#EXT-X-RENDITION-REPORT:URI=\"../other/index.m3u8?expires=9&sig=ab\",LAST-MSN=5\r\n"
            "#EXT-X-FOO:XURI=\"not-a-uri\"");
}

TEST(PlaylistTokens, MalformedTagsAreLeftAlone) {
  EXPECT_EQ(append_query_to_playlist_uris("#EXT-X-MAP:URI=\"open\n", kToken),
            "#EXT-X-MAP:URI=\"open\n");
  EXPECT_EQ(append_query_to_playlist_uris("", kToken), "");
}

TEST(PlaylistTokens, CarriedQueryKeepsSafeParametersOnly) {
  EXPECT_EQ(playlist_carried_query("token=abc&_HLS_msn=4&_HLS_part=1&u=a%20b"),
            "token=abc&u=a%20b");
  EXPECT_EQ(playlist_carried_query("a=\"x&b=1&c=<&d=#&e=x y&f=\n&g"), "b=1&g=");
  EXPECT_EQ(playlist_carried_query(""), "");
  const std::string big(kMaxCarriedQuery, 'x');
  EXPECT_EQ(playlist_carried_query("a=1&big=" + big + "&b=2"), "a=1&b=2");
}

}  // namespace
}  // namespace cascade::access
