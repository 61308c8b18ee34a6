#include "vod/media_bitrate.h"

#include <gtest/gtest.h>

namespace cascade::vod {
namespace {

media::Mp4Track track(uint32_t timescale, uint64_t duration, std::vector<uint32_t> sizes) {
  media::Mp4Track t;
  t.timescale = timescale;
  t.media_duration = duration;
  t.sample_sizes = std::move(sizes);
  return t;
}

TEST(MediaBitrate, Mp4IsSampleBytesOverTheMovieDuration) {
  media::Mp4Index index;
  index.movie_timescale = 1000;
  index.movie_duration = 10'000;                                                       // 10 s
  index.tracks.push_back(track(90'000, 900'000, std::vector<uint32_t>(250, 10'000)));  // 2.5 MB
  index.tracks.push_back(track(44'100, 441'000, std::vector<uint32_t>(430, 250)));     // ~107 KB
  EXPECT_EQ(mp4_bitrate_bits_per_s(index), (2'500'000u + 107'500u) * 8 / 10);
  // Without an mvhd duration: the longest track's.
  index.movie_duration = 0;
  index.tracks[1].media_duration = 882'000;  // 20 s
  EXPECT_EQ(mp4_bitrate_bits_per_s(index), (2'500'000u + 107'500u) * 8 / 20);
}

TEST(MediaBitrate, Mp4WithoutDurationOrSamplesHasNone) {
  media::Mp4Index index;
  EXPECT_FALSE(mp4_bitrate_bits_per_s(index));
  index.movie_timescale = 1000;
  index.movie_duration = 400;  // 0.4 s: too short to pace by
  index.tracks.push_back(track(1000, 400, {1000, 1000}));
  EXPECT_FALSE(mp4_bitrate_bits_per_s(index));
  index.movie_duration = 4000;
  index.tracks[0].sample_sizes.clear();
  EXPECT_FALSE(mp4_bitrate_bits_per_s(index));
}

TEST(MediaBitrate, FlvIsFileBytesOverTheLastTimestamp) {
  flv::FlvKeyframeIndex index;
  index.file_size = 1'000'013;
  index.first_tag_offset = 13;
  index.duration_ms = 8'000;
  EXPECT_EQ(flv_bitrate_bits_per_s(index), 1'000'000u);
  index.duration_ms = 0;
  EXPECT_FALSE(flv_bitrate_bits_per_s(index));
  index.duration_ms = 8'000;
  index.file_size = 13;
  EXPECT_FALSE(flv_bitrate_bits_per_s(index));
}

}  // namespace
}  // namespace cascade::vod
