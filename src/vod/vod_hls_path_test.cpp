#include "vod/vod_hls_path.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::vod {
namespace {

struct PathCase {
  const char* name;
  std::string_view path;  // after the /vod/ prefix
  bool hls;
  const char* file = "";
  VodHlsResource resource = VodHlsResource::kMaster;
  uint32_t segment = 0;
};

TEST(VodHlsPath, Table) {
  using R = VodHlsResource;
  const std::vector<PathCase> cases = {
      {"master", "films/movie.mp4/master.m3u8", true, "films/movie.mp4", R::kMaster},
      {"fmp4_playlist", "movie.mp4/index.m3u8", true, "movie.mp4", R::kFmp4Playlist},
      {"ts_playlist", "movie.MOV/ts.m3u8", true, "movie.MOV", R::kTsPlaylist},
      {"init", "a/b/c.m4v/init.mp4", true, "a/b/c.m4v", R::kInit},
      {"fmp4_segment_0", "song.m4a/s0.m4s", true, "song.m4a", R::kFmp4Segment, 0},
      {"ts_segment", "clip.3gp/s42.ts", true, "clip.3gp", R::kTsSegment, 42},
      {"largest_segment", "x.mp4/s999999999.ts", true, "x.mp4", R::kTsSegment, 999'999'999},
      {"encoded_file_name", "my%20film.mp4/s7.m4s", true, "my%20film.mp4", R::kFmp4Segment, 7},
      // Not HLS: served (or refused) as files by the route.
      {"plain_file", "movie.mp4", false},
      {"playlist_file_in_a_directory", "films/index.m3u8", false},
      {"not_mp4", "movie.flv/index.m3u8", false},
      {"mp4_with_no_name", ".mp4/index.m3u8", false},
      {"mp4_dir_with_no_name", "films/.mp4/index.m3u8", false},
      {"extension_only_in_a_directory", "a.mp4/b/index.m3u8", false},
      {"unknown_resource", "movie.mp4/foo.m3u8", false},
      {"empty_resource", "movie.mp4/", false},
      {"leading_zero", "movie.mp4/s01.ts", false},
      {"ten_digits", "movie.mp4/s1000000000.ts", false},
      {"sign", "movie.mp4/s+1.ts", false},
      {"negative", "movie.mp4/s-1.ts", false},
      {"no_number", "movie.mp4/s.ts", false},
      {"hex", "movie.mp4/s0x1.ts", false},
      {"two_dots", "movie.mp4/s1.2.ts", false},
      {"other_extension", "movie.mp4/s1.mp4", false},
      {"case_matters_in_names", "movie.mp4/INDEX.m3u8", false},
      {"escaped_name", "movie.mp4/index%2Em3u8", false},
      {"trailing_slash_after_name", "movie.mp4/index.m3u8/", false},
      {"nul", std::string_view("movie.mp4/s1\0.ts", 16), false},
      {"empty", "", false},
  };
  for (const PathCase& c : cases) {
    media::testing::save_seed("vod_hls_path", c.name, media::testing::text(c.path));
    auto split = split_vod_hls_path(c.path);
    ASSERT_EQ(split.has_value(), c.hls) << c.name;
    if (!c.hls) continue;
    EXPECT_EQ(split->file, c.file) << c.name;
    EXPECT_EQ(split->target.resource, c.resource) << c.name;
    EXPECT_EQ(split->target.segment, c.segment) << c.name;
  }
}

TEST(VodHlsPath, SourceNamesAndContentTypes) {
  for (const char* name : {"a.mp4", "a.MP4", "dir/a.m4v", "a.m4a", "a.mov", "a.3gp", "a.b.Mov"}) {
    EXPECT_TRUE(is_hls_source_name(name)) << name;
  }
  for (const char* name : {"a.flv", "a.mp4.txt", "mp4", "dir.mp4/a", "a.", ""}) {
    EXPECT_FALSE(is_hls_source_name(name)) << name;
  }
  EXPECT_EQ(vod_hls_content_type(VodHlsResource::kMaster), "application/vnd.apple.mpegurl");
  EXPECT_EQ(vod_hls_content_type(VodHlsResource::kTsPlaylist), "application/vnd.apple.mpegurl");
  EXPECT_EQ(vod_hls_content_type(VodHlsResource::kInit), "video/mp4");
  EXPECT_EQ(vod_hls_content_type(VodHlsResource::kFmp4Segment), "video/iso.segment");
  EXPECT_EQ(vod_hls_content_type(VodHlsResource::kTsSegment), "video/mp2t");
}

}  // namespace
}  // namespace cascade::vod
