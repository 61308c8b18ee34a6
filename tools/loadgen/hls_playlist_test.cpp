#include "loadgen/hls_playlist.h"

#include <gtest/gtest.h>

#include <string>

namespace cascade::loadgen {
namespace {

// What Cascade serves at /live/x/index.m3u8 (LL-HLS, fMP4).
const char* const kLowLatency = R"(#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=0.999
#EXT-X-PART-INF:PART-TARGET=0.333
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="e1/init2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T05:40:12.630Z
#EXT-X-PART:DURATION=0.300,URI="e1/p7.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.300,URI="e1/p7.1.m4s"
#EXTINF:0.600,
e1/s7.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="e1/init3.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T05:40:13.230Z
#EXT-X-PART:DURATION=0.300,URI="e1/p8.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.250,URI="e1/p8.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e1/p8.2.m4s"
)";

TEST(ParsePlaylist, LowLatency) {
  auto pl = parse_playlist(kLowLatency);
  ASSERT_TRUE(pl) << pl.error().message;
  EXPECT_FALSE(pl->multivariant);
  EXPECT_EQ(pl->version, 9);
  EXPECT_EQ(pl->target_duration_s, 2);
  EXPECT_EQ(pl->media_sequence, 7u);
  EXPECT_TRUE(pl->can_block_reload);
  EXPECT_EQ(pl->can_skip_until_us, 12'000'000);
  EXPECT_EQ(pl->part_hold_back_us, 999'000);
  EXPECT_EQ(pl->part_target_us, 333'000);
  EXPECT_FALSE(pl->ended);
  EXPECT_EQ(pl->preload_hint_uri, "e1/p8.2.m4s");
  ASSERT_EQ(pl->segments.size(), 2u);
  const HlsSegment& s7 = pl->segments[0];
  EXPECT_EQ(s7.msn, 7u);
  EXPECT_TRUE(s7.complete());
  EXPECT_EQ(s7.duration_us, 600'000);
  EXPECT_EQ(s7.uri, "e1/s7.m4s");
  EXPECT_EQ(s7.map_uri, "e1/init2.mp4");
  ASSERT_EQ(s7.parts.size(), 2u);
  EXPECT_TRUE(s7.parts[0].independent);
  EXPECT_FALSE(s7.parts[1].independent);
  EXPECT_EQ(s7.parts[1].uri, "e1/p7.1.m4s");
  const HlsSegment& s8 = pl->segments[1];
  EXPECT_EQ(s8.msn, 8u);
  EXPECT_FALSE(s8.complete());
  EXPECT_TRUE(s8.discontinuity);
  EXPECT_EQ(s8.map_uri, "e1/init3.mp4");
  ASSERT_EQ(s8.parts.size(), 2u);
  EXPECT_EQ(s8.parts[1].duration_us, 250'000);
  EXPECT_EQ(pl->find(8), &s8);
  EXPECT_EQ(pl->find(6), nullptr);
  EXPECT_EQ(pl->find(9), nullptr);
}

TEST(ParsePlaylist, DeltaUpdateNumbersAfterTheSkip) {
  auto pl = parse_playlist(
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n"
      "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2.0,\ns13.ts\n#EXTINF:1.5,\ns14.ts\n");
  ASSERT_TRUE(pl) << pl.error().message;
  EXPECT_EQ(pl->skipped_segments, 3u);
  EXPECT_EQ(pl->first_listed_msn(), 13u);
  ASSERT_EQ(pl->segments.size(), 2u);
  EXPECT_EQ(pl->segments[1].msn, 14u);
  EXPECT_EQ(pl->find(12), nullptr);
  EXPECT_EQ(pl->find(14)->uri, "s14.ts");
}

TEST(ParsePlaylist, ClassicTsCrlfEndlistAndComments) {
  auto pl = parse_playlist(
      "#EXTM3U\r\n#EXT-X-VERSION:3\r\n# a comment\r\n#EXT-X-TARGETDURATION:3\r\n\r\n"
      "#EXTINF:2.5,title, with comma\r\na.ts\r\n#EXT-X-UNKNOWN:X=1\r\n#EXTINF:3.4\r\nb.ts\r\n"
      "#EXT-X-ENDLIST\r\n");
  ASSERT_TRUE(pl) << pl.error().message;
  EXPECT_EQ(pl->media_sequence, 0u);
  EXPECT_FALSE(pl->can_block_reload);
  EXPECT_FALSE(pl->part_target_us);
  EXPECT_TRUE(pl->ended);
  ASSERT_EQ(pl->segments.size(), 2u);
  EXPECT_EQ(pl->segments[0].duration_us, 2'500'000);
  EXPECT_EQ(pl->segments[1].uri, "b.ts");
  EXPECT_TRUE(pl->segments[1].map_uri.empty());
}

TEST(ParsePlaylist, Multivariant) {
  auto pl = parse_playlist(
      "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1059818,CODECS=\"avc1.f4001f,mp4a.40.2\",RESOLUTION=1280x720\n"
      "x/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n");
  ASSERT_TRUE(pl) << pl.error().message;
  EXPECT_TRUE(pl->multivariant);
  EXPECT_EQ(pl->variants, (std::vector<std::string>{"x/index.m3u8", "low.m3u8"}));
}

TEST(ParsePlaylist, EmptyLivePlaylistAndQuotedCommas) {
  auto pl = parse_playlist(
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"a,b.mp4\",BYTERANGE=\"10@0\"\n");
  ASSERT_TRUE(pl) << pl.error().message;
  EXPECT_TRUE(pl->segments.empty());
}

struct BadCase {
  const char* name;
  const char* text;
};

class ParsePlaylistRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParsePlaylistRejects, WithAReason) {
  auto pl = parse_playlist(GetParam().text);
  ASSERT_FALSE(pl) << GetParam().name;
  EXPECT_FALSE(pl.error().message.empty());
}

const BadCase kBadCases[] = {
    {"empty", ""},
    {"no_extm3u", "#EXT-X-TARGETDURATION:2\n#EXTINF:1,\na.ts\n"},
    {"bom", "\xEF\xBB\xBF#EXTM3U\n#EXT-X-TARGETDURATION:2\n"},
    {"no_target", "#EXTM3U\n#EXTINF:1,\na.ts\n"},
    {"target_repeated", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2\n"},
    {"target_not_integer", "#EXTM3U\n#EXT-X-TARGETDURATION:2.5\n"},
    {"extinf_over_target", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.5,\na.ts\n"},
    {"extinf_bad", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:x,\na.ts\n"},
    {"extinf_negative", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts\n"},
    {"extinf_dot", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.,\na.ts\n"},
    {"extinf_without_uri", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n"},
    {"extinf_then_tag", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n#EXT-X-ENDLIST\na.ts\n"},
    {"uri_without_extinf", "#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n"},
    {"uri_with_space", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\na b.ts\n"},
    {"uri_with_control", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\na\x01.ts\n"},
    {"sequence_after_segment",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\na.ts\n#EXT-X-MEDIA-SEQUENCE:3\n"},
    {"sequence_bad", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:-3\n"},
    {"part_without_part_inf",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART:DURATION=0.3,URI=\"p.m4s\"\n"},
    {"part_over_target",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.333\n"
     "#EXT-X-PART:DURATION=0.334,URI=\"p.m4s\"\n"},
    {"part_without_uri",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.5\n"
     "#EXT-X-PART:DURATION=0.3\n"},
    {"part_unquoted_uri",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.5\n"
     "#EXT-X-PART:DURATION=0.3,URI=p.m4s\n"},
    {"part_inf_without_target", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:X=1\n"},
    {"unterminated_quote", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"a.mp4\n"},
    {"junk_after_quote", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"a.mp4\"x\n"},
    {"lowercase_attribute", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:uri=\"a.mp4\"\n"},
    {"empty_attribute",
     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=\n"},
    {"skip_without_count", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SKIP:X=1\n"},
    {"stream_inf_without_uri", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"},
    {"mixed", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"},
    {"hint_without_type", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PRELOAD-HINT:URI=\"p\"\n"},
};

INSTANTIATE_TEST_SUITE_P(Cases, ParsePlaylistRejects, ::testing::ValuesIn(kBadCases),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(ParseSeconds, Decimal) {
  EXPECT_EQ(parse_seconds_us("2"), 2'000'000);
  EXPECT_EQ(parse_seconds_us("0.333"), 333'000);
  EXPECT_EQ(parse_seconds_us("1.0000019"), 1'000'001);
  EXPECT_EQ(parse_seconds_us("10.5"), 10'500'000);
  for (const char* bad : {"", ".5", "1.", "-1", "+1", "1e3", "1.2.3", "abc", "1234567890"}) {
    EXPECT_FALSE(parse_seconds_us(bad)) << bad;
  }
}

TEST(ResolveUri, RelativeAbsoluteAndOtherServers) {
  const char* base = "/live/x/index.m3u8?_HLS_msn=3";
  const char* authority = "127.0.0.1:8080";
  auto resolve = [&](const char* uri) {
    auto r = resolve_uri(base, uri, authority);
    return r ? *r : "error: " + r.error().message;
  };
  EXPECT_EQ(resolve("e1/p3.0.m4s"), "/live/x/e1/p3.0.m4s");
  EXPECT_EQ(resolve("../y/index.m3u8"), "/live/y/index.m3u8");
  EXPECT_EQ(resolve("./a/./b/../c.ts?k=1"), "/live/x/a/c.ts?k=1");
  EXPECT_EQ(resolve("../../../../a.ts"), "/a.ts");
  EXPECT_EQ(resolve("/abs/a.ts"), "/abs/a.ts");
  EXPECT_EQ(resolve("http://127.0.0.1:8080/a/b.ts"), "/a/b.ts");
  EXPECT_EQ(resolve("HTTP://127.0.0.1:8080"), "/");
  EXPECT_EQ(resolve("a.ts#frag"), "/live/x/a.ts");
  EXPECT_EQ(resolve_uri("/live/x.m3u8", "x/index.m3u8", authority).value(), "/live/x/index.m3u8");
  for (const char* bad : {"http://other:8080/a.ts", "https://127.0.0.1:8080/a.ts",
                          "//127.0.0.1:8080/a.ts", "a b.ts", "a\r\nX: 1", "#frag", ""}) {
    EXPECT_FALSE(resolve_uri(base, bad, authority)) << bad;
  }
}

}  // namespace
}  // namespace cascade::loadgen
