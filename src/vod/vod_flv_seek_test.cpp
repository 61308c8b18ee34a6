#include "vod/vod_flv_seek.h"

#include <gtest/gtest.h>

#include <string>

namespace cascade::vod {
namespace {

TEST(VodFlvSeek, ParsesByteOffsets) {
  auto none = parse_flv_seek("width=640&id=player1", FlvStartUnit::kBytes);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  for (auto [query, start] :
       std::vector<std::pair<std::string, uint64_t>>{{"start=0", 0},
                                                     {"start=92925", 92925},
                                                     {"id=x&start=7&width=1", 7},
                                                     {"start=18446744073709551615", UINT64_MAX}}) {
    auto seek = parse_flv_seek(query, FlvStartUnit::kBytes);
    ASSERT_TRUE(seek) << query << ": " << seek.error().message;
    ASSERT_TRUE(seek->has_value()) << query;
    EXPECT_EQ((*seek)->unit, flv::FlvSeekUnit::kBytes);
    EXPECT_EQ((*seek)->start_byte, start) << query;
  }
  for (const char* bad : {"start=", "start", "start=-1", "start=1.5", "start=12abc", "start=+3",
                          "start=0x10", "start=18446744073709551616", "start=1e3"}) {
    auto seek = parse_flv_seek(bad, FlvStartUnit::kBytes);
    ASSERT_FALSE(seek) << bad;
    EXPECT_EQ(seek.error().message, "start must be a byte offset (a non-negative integer)");
  }
  auto end = parse_flv_seek("start=100&end=5", FlvStartUnit::kBytes);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().message, "end needs vod.flv_start_unit = \"seconds\"");
}

TEST(VodFlvSeek, ParsesSeconds) {
  auto seek = parse_flv_seek("start=2.5&end=7", FlvStartUnit::kSeconds);
  ASSERT_TRUE(seek && seek->has_value());
  EXPECT_EQ((*seek)->unit, flv::FlvSeekUnit::kSeconds);
  EXPECT_EQ((*seek)->start_s, 2.5);
  EXPECT_EQ((*seek)->end_s, 7.0);
  seek = parse_flv_seek("end=3", FlvStartUnit::kSeconds);
  ASSERT_TRUE(seek && seek->has_value());
  EXPECT_EQ((*seek)->start_s, 0.0);
  for (const char* bad : {"start=abc", "start=-1", "start=nan", "start=inf", "end=", "start=1x"}) {
    EXPECT_FALSE(parse_flv_seek(bad, FlvStartUnit::kSeconds)) << bad;
  }
  auto backwards = parse_flv_seek("start=5&end=2", FlvStartUnit::kSeconds);
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().message, "end must be after start");
  EXPECT_FALSE(parse_flv_seek("start=5&end=5", FlvStartUnit::kSeconds));
}

}  // namespace
}  // namespace cascade::vod
