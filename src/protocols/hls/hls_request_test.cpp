#include "protocols/hls/hls_request.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "media/test_corpus.h"

namespace cascade::hls {
namespace {

using media::testing::save_seed;
using media::testing::text;

// Fuzz seeds (fuzz/hls_request_fuzz.cpp) are request targets, "path?query",
// split at the first '?' as the HLS route splits them.
void seed(std::string_view name, std::string_view target) {
  save_seed("hls_request", name, text(target));
}

// --- parse_hls_path -------------------------------------------------------

struct PathCase {
  const char* name;
  std::string_view path;
  std::optional<HlsTarget> want;  // nullopt: not an HLS URL
};

HlsTarget target(std::string app, std::string stream, Resource resource, std::string epoch = "",
                 uint64_t number = 0, uint32_t part = 0) {
  HlsTarget t;
  t.app = std::move(app);
  t.stream = std::move(stream);
  t.resource = resource;
  t.epoch = std::move(epoch);
  t.number = number;
  t.part = part;
  return t;
}

const PathCase kPathCases[] = {
    // Every resource kind.
    {"master", "/live/cam1.m3u8", target("live", "cam1", Resource::kMaster)},
    {"fmp4_playlist", "/live/cam1/index.m3u8", target("live", "cam1", Resource::kFmp4Playlist)},
    {"ts_playlist", "/live/cam1/ts.m3u8", target("live", "cam1", Resource::kTsPlaylist)},
    {"fmp4_dvr_playlist", "/live/cam1/dvr.m3u8",
     target("live", "cam1", Resource::kFmp4DvrPlaylist)},
    {"ts_dvr_playlist", "/live/cam1/ts-dvr.m3u8", target("live", "cam1", Resource::kTsDvrPlaylist)},
    {"init", "/live/cam1/k3x9/init2.mp4", target("live", "cam1", Resource::kInit, "k3x9", 2)},
    {"fmp4_segment", "/live/cam1/k3x9/s42.m4s",
     target("live", "cam1", Resource::kFmp4Segment, "k3x9", 42)},
    {"part", "/live/cam1/k3x9/p42.3.m4s", target("live", "cam1", Resource::kPart, "k3x9", 42, 3)},
    {"ts_segment", "/live/cam1/k3x9/s42.ts",
     target("live", "cam1", Resource::kTsSegment, "k3x9", 42)},
    {"msn_zero", "/live/cam1/0/s0.ts", target("live", "cam1", Resource::kTsSegment, "0", 0)},
    {"msn_max", "/live/cam1/e/s18446744073709551615.m4s",
     target("live", "cam1", Resource::kFmp4Segment, "e", UINT64_MAX)},
    {"part_index_max", "/live/cam1/e/p7.4294967295.m4s",
     target("live", "cam1", Resource::kPart, "e", 7, UINT32_MAX)},
    {"epoch_32_chars", "/live/cam1/0123456789abcdefghijklmnopqrstuv/s1.ts",
     target("live", "cam1", Resource::kTsSegment, "0123456789abcdefghijklmnopqrstuv", 1)},
    // Percent-escapes in app and stream are decoded (either hex case).
    {"escaped_master", "/live/my%20cam.m3u8", target("live", "my cam", Resource::kMaster)},
    {"escaped_app_and_stream", "/a%2Db/c%7e%41/index.m3u8",
     target("a-b", "c~A", Resource::kFmp4Playlist)},
    {"escaped_stream_media", "/live/x%3Ay/e1/s5.ts",
     target("live", "x:y", Resource::kTsSegment, "e1", 5)},
    {"stream_with_dots", "/live/cam.1.m3u8", target("live", "cam.1", Resource::kMaster)},
    {"stream_named_index", "/live/index.m3u8", target("live", "index", Resource::kMaster)},

    // Not HLS URLs.
    {"empty", "", std::nullopt},
    {"root", "/", std::nullopt},
    {"no_leading_slash", "live/cam1.m3u8", std::nullopt},
    {"one_segment", "/cam1.m3u8", std::nullopt},
    {"master_not_m3u8", "/live/cam1.flv", std::nullopt},
    {"master_empty_name", "/live/.m3u8", std::nullopt},
    {"trailing_slash_master", "/live/cam1.m3u8/", std::nullopt},
    {"trailing_slash_stream", "/live/cam1/", std::nullopt},
    {"trailing_slash_playlist", "/live/cam1/index.m3u8/", std::nullopt},
    {"trailing_slash_segment", "/live/cam1/e/s1.ts/", std::nullopt},
    {"five_segments", "/live/cam1/e/s1.ts/x", std::nullopt},
    {"six_segments", "/a/b/c/d/e/f", std::nullopt},
    {"empty_app", "//cam1.m3u8", std::nullopt},
    {"empty_stream", "/live//index.m3u8", std::nullopt},
    {"empty_epoch", "/live/cam1//s1.ts", std::nullopt},
    {"double_slash_start", "//live/cam1/index.m3u8", std::nullopt},
    {"unknown_playlist", "/live/cam1/other.m3u8", std::nullopt},
    {"playlist_name_case", "/live/cam1/INDEX.m3u8", std::nullopt},
    {"media_without_epoch", "/live/cam1/s1.ts", std::nullopt},
    {"epoch_uppercase", "/live/cam1/E1/s1.ts", std::nullopt},
    {"epoch_dash", "/live/cam1/e-1/s1.ts", std::nullopt},
    {"epoch_escaped", "/live/cam1/e%41/s1.ts", std::nullopt},
    {"epoch_33_chars", "/live/cam1/0123456789abcdefghijklmnopqrstuvw/s1.ts", std::nullopt},
    {"epoch_dot_dot", "/live/cam1/../s1.ts", std::nullopt},
    {"msn_letters", "/live/cam1/e/s1a.ts", std::nullopt},
    {"msn_negative", "/live/cam1/e/s-1.ts", std::nullopt},
    {"msn_plus", "/live/cam1/e/s+1.ts", std::nullopt},
    {"msn_hex", "/live/cam1/e/s0x1f.ts", std::nullopt},
    {"msn_space", "/live/cam1/e/s%201.ts", std::nullopt},
    {"msn_empty", "/live/cam1/e/s.ts", std::nullopt},
    {"msn_overflow", "/live/cam1/e/s18446744073709551616.ts", std::nullopt},
    {"msn_21_digits", "/live/cam1/e/s000000000000000000001.ts", std::nullopt},
    {"init_number_empty", "/live/cam1/e/init.mp4", std::nullopt},
    {"init_wrong_extension", "/live/cam1/e/init1.m4s", std::nullopt},
    {"segment_wrong_extension", "/live/cam1/e/s1.mp4", std::nullopt},
    {"segment_extra_suffix", "/live/cam1/e/s1.m4s.tmp", std::nullopt},
    {"part_without_index", "/live/cam1/e/p1.m4s", std::nullopt},
    {"part_empty_index", "/live/cam1/e/p1..m4s", std::nullopt},
    {"part_empty_msn", "/live/cam1/e/p.1.m4s", std::nullopt},
    {"part_bare", "/live/cam1/e/p.m4s", std::nullopt},
    {"part_three_numbers", "/live/cam1/e/p1.2.3.m4s", std::nullopt},
    {"part_index_overflow", "/live/cam1/e/p1.4294967296.m4s", std::nullopt},
    {"part_msn_overflow", "/live/cam1/e/p18446744073709551616.0.m4s", std::nullopt},
    {"part_as_ts", "/live/cam1/e/p1.0.ts", std::nullopt},
    // Dot-segments (RFC 3986 3.3, 5.2.4), raw or escaped, never name a stream.
    {"dot_dot_app", "/../cam1.m3u8", std::nullopt},
    {"dot_dot_stream", "/live/../index.m3u8", std::nullopt},
    {"dot_stream", "/live/./index.m3u8", std::nullopt},
    {"escaped_dot_dot_stream", "/live/%2E%2E/index.m3u8", std::nullopt},
    {"escaped_dot_dot_master", "/live/%2e%2e.m3u8", std::nullopt},
    {"dot_dot_media_name", "/live/cam1/e/..", std::nullopt},
    // An escaped '/' or NUL would smuggle a separator into a name.
    {"escaped_slash_app", "/a%2Fb/cam1/index.m3u8", std::nullopt},
    {"escaped_slash_stream_lower", "/live/a%2fb/index.m3u8", std::nullopt},
    {"escaped_slash_master", "/live/a%2Fb.m3u8", std::nullopt},
    {"escaped_nul", "/live/a%00b/index.m3u8", std::nullopt},
    {"raw_nul_stream", std::string_view("/live/a\0b/index.m3u8", 20), std::nullopt},
    {"raw_nul_master", std::string_view("/live/cam\0.m3u8", 15), std::nullopt},
    // Bad escapes.
    {"escape_truncated", "/live/cam%/index.m3u8", std::nullopt},
    {"escape_one_digit", "/live/cam%4/index.m3u8", std::nullopt},
    {"escape_not_hex", "/live/cam%zz/index.m3u8", std::nullopt},
    {"escape_at_end_of_master", "/live/cam%2.m3u8", std::nullopt},
};

class HlsPathCases : public ::testing::TestWithParam<PathCase> {};

TEST_P(HlsPathCases, Parses) {
  const PathCase& c = GetParam();
  seed(std::string("path_") + c.name, c.path);
  const std::optional<HlsTarget> got = parse_hls_path(c.path);
  if (!c.want) {
    EXPECT_FALSE(got.has_value()) << "accepted " << c.path;
    return;
  }
  ASSERT_TRUE(got.has_value()) << "rejected " << c.path;
  EXPECT_EQ(got->app, c.want->app);
  EXPECT_EQ(got->stream, c.want->stream);
  EXPECT_EQ(got->resource, c.want->resource);
  EXPECT_EQ(got->epoch, c.want->epoch);
  EXPECT_EQ(got->number, c.want->number);
  EXPECT_EQ(got->part, c.want->part);
}

INSTANTIATE_TEST_SUITE_P(Table, HlsPathCases, ::testing::ValuesIn(kPathCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(HlsRequest, IsPlaylist) {
  EXPECT_TRUE(is_playlist(Resource::kMaster));
  EXPECT_TRUE(is_playlist(Resource::kFmp4Playlist));
  EXPECT_TRUE(is_playlist(Resource::kTsPlaylist));
  EXPECT_TRUE(is_playlist(Resource::kFmp4DvrPlaylist));
  EXPECT_TRUE(is_playlist(Resource::kTsDvrPlaylist));
  EXPECT_FALSE(is_playlist(Resource::kInit));
  EXPECT_FALSE(is_playlist(Resource::kFmp4Segment));
  EXPECT_FALSE(is_playlist(Resource::kPart));
  EXPECT_FALSE(is_playlist(Resource::kTsSegment));
}

// --- parse_delivery_directives ---------------------------------------------

struct QueryCase {
  const char* name;
  std::string_view query;
  bool ok;
  std::optional<uint64_t> msn = std::nullopt;
  std::optional<uint32_t> part = std::nullopt;
  bool skip = false;
};

const QueryCase kQueryCases[] = {
    {"empty", "", true},
    {"msn", "_HLS_msn=5", true, 5},
    {"msn_zero", "_HLS_msn=0", true, 0},
    {"msn_and_part", "_HLS_msn=5&_HLS_part=2", true, 5, 2},
    {"part_before_msn", "_HLS_part=2&_HLS_msn=5", true, 5, 2},
    {"skip_yes", "_HLS_skip=YES", true, std::nullopt, std::nullopt, true},
    {"skip_v2", "_HLS_skip=v2", true, std::nullopt, std::nullopt, true},
    {"all_three", "_HLS_msn=9&_HLS_part=0&_HLS_skip=YES", true, 9, 0, true},
    {"msn_max", "_HLS_msn=18446744073709551615", true, UINT64_MAX},
    {"part_max", "_HLS_msn=1&_HLS_part=4294967295", true, 1, UINT32_MAX},
    {"unrelated_ignored", "token=abc&_HLS_msn=7&x&y=", true, 7},
    {"empty_pairs_ignored", "&&_HLS_msn=3&&", true, 3},
    {"only_unrelated", "a=1&b=2", true},
    // Names are case-sensitive: these are someone else's parameters.
    {"lowercase_name_ignored", "_hls_msn=abc&_HLS_SKIP=NO", true},
    {"escaped_name_ignored", "%5FHLS_msn=abc", true},

    // 8216bis 6.2.5.2: 400 Bad Request.
    {"part_without_msn", "_HLS_part=1", false},
    {"part_without_msn_with_skip", "_HLS_part=1&_HLS_skip=YES", false},
    {"msn_twice", "_HLS_msn=1&_HLS_msn=1", false},
    {"part_twice", "_HLS_msn=1&_HLS_part=1&_HLS_part=2", false},
    {"skip_twice", "_HLS_skip=YES&_HLS_skip=YES", false},
    {"msn_no_value", "_HLS_msn", false},
    {"msn_empty_value", "_HLS_msn=", false},
    {"msn_negative", "_HLS_msn=-1", false},
    {"msn_plus", "_HLS_msn=+1", false},
    {"msn_leading_space", "_HLS_msn=%201", false},
    {"msn_fraction", "_HLS_msn=1.5", false},
    {"msn_hex", "_HLS_msn=0x10", false},
    {"msn_overflow", "_HLS_msn=18446744073709551616", false},
    {"msn_21_digits", "_HLS_msn=000000000000000000001", false},
    {"part_overflow", "_HLS_msn=1&_HLS_part=4294967296", false},
    {"part_letters", "_HLS_msn=1&_HLS_part=a", false},
    {"part_empty_value", "_HLS_msn=1&_HLS_part=", false},
    {"skip_no", "_HLS_skip=NO", false},
    {"skip_lowercase", "_HLS_skip=yes", false},
    {"skip_v1", "_HLS_skip=v1", false},
    {"skip_empty", "_HLS_skip=", false},
    {"skip_no_value", "_HLS_skip", false},
};

class HlsQueryCases : public ::testing::TestWithParam<QueryCase> {};

TEST_P(HlsQueryCases, Parses) {
  const QueryCase& c = GetParam();
  seed(std::string("query_") + c.name,
       std::string("/live/cam1/index.m3u8?") + std::string(c.query));
  auto got = parse_delivery_directives(c.query);
  if (!c.ok) {
    ASSERT_FALSE(got.ok()) << "accepted " << c.query;
    EXPECT_FALSE(got.error().message.empty());
    return;
  }
  ASSERT_TRUE(got.ok()) << c.query << ": " << got.error().message;
  EXPECT_EQ(got->msn, c.msn);
  EXPECT_EQ(got->part, c.part);
  EXPECT_EQ(got->skip, c.skip);
}

INSTANTIATE_TEST_SUITE_P(Table, HlsQueryCases, ::testing::ValuesIn(kQueryCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(HlsRequest, ErrorsNameTheProblem) {
  auto without_msn = parse_delivery_directives("_HLS_part=1");
  ASSERT_FALSE(without_msn.ok());
  EXPECT_NE(without_msn.error().message.find("without _HLS_msn"), std::string::npos);
  auto twice = parse_delivery_directives("_HLS_msn=1&_HLS_msn=2");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
}

}  // namespace
}  // namespace cascade::hls
