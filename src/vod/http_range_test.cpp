#include "vod/http_range.h"

#include <gtest/gtest.h>

#include "media/test_corpus.h"
#include "net/http_date.h"

namespace cascade::vod {
namespace {

struct RangeCase {
  const char* name;
  const char* header;
  uint64_t size;
  RangeResult result;
  uint64_t first = 0, last = 0;
};

class Ranges : public ::testing::TestWithParam<RangeCase> {};

TEST_P(Ranges, Evaluate) {
  const RangeCase& c = GetParam();
  media::testing::save_seed("http_range", c.name, media::testing::text(c.header));
  ByteRange range;
  ASSERT_EQ(evaluate_range(c.header, c.size, range), c.result);
  if (c.result == RangeResult::kSatisfiable) {
    EXPECT_EQ(range.first, c.first);
    EXPECT_EQ(range.last, c.last);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vod, Ranges,
    ::testing::Values(
        RangeCase{"none", "", 100, RangeResult::kNone},
        RangeCase{"closed", "bytes=0-9", 100, RangeResult::kSatisfiable, 0, 9},
        RangeCase{"open", "bytes=90-", 100, RangeResult::kSatisfiable, 90, 99},
        RangeCase{"suffix", "bytes=-10", 100, RangeResult::kSatisfiable, 90, 99},
        RangeCase{"suffix_longer_than_file", "bytes=-500", 100, RangeResult::kSatisfiable, 0, 99},
        RangeCase{"last_clipped", "bytes=50-1000", 100, RangeResult::kSatisfiable, 50, 99},
        RangeCase{"single_byte", "bytes=99-99", 100, RangeResult::kSatisfiable, 99, 99},
        RangeCase{"unit_case", "Bytes=1-2", 100, RangeResult::kSatisfiable, 1, 2},
        RangeCase{"spaces", "bytes= 1 - 2 ", 100, RangeResult::kSatisfiable, 1, 2},
        RangeCase{"past_end", "bytes=100-", 100, RangeResult::kUnsatisfiable},
        RangeCase{"zero_suffix", "bytes=-0", 100, RangeResult::kUnsatisfiable},
        RangeCase{"empty_file", "bytes=0-", 0, RangeResult::kUnsatisfiable},
        RangeCase{"reversed", "bytes=9-1", 100, RangeResult::kNone},
        RangeCase{"several", "bytes=0-1,5-6", 100, RangeResult::kNone},
        RangeCase{"other_unit", "items=0-1", 100, RangeResult::kNone},
        RangeCase{"no_dash", "bytes=5", 100, RangeResult::kNone},
        RangeCase{"junk", "bytes=a-b", 100, RangeResult::kNone},
        RangeCase{"negative", "bytes=-1-5", 100, RangeResult::kNone},
        RangeCase{"overflow", "bytes=99999999999999999999-", 100, RangeResult::kNone},
        RangeCase{"huge_file", "bytes=5000000000-5000000009", 6000000000, RangeResult::kSatisfiable,
                  5000000000, 5000000009}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Conditional, IfNoneMatch) {
  EXPECT_TRUE(if_none_match("\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(if_none_match("W/\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(if_none_match("\"x\", \"a-1\"", "\"a-1\""));
  EXPECT_TRUE(if_none_match("*", "\"a-1\""));
  EXPECT_FALSE(if_none_match("\"a-2\"", "\"a-1\""));
  EXPECT_FALSE(if_none_match("", "\"a-1\""));
}

TEST(Conditional, IfRange) {
  const std::string date = net::format_http_date(784111777);
  EXPECT_EQ(date, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_TRUE(if_range_allows("", "\"e\"", date));
  EXPECT_TRUE(if_range_allows("\"e\"", "\"e\"", date));
  EXPECT_FALSE(if_range_allows("\"f\"", "\"e\"", date));
  EXPECT_FALSE(if_range_allows("W/\"e\"", "\"e\"", date));  // weak never matches (13.1.5)
  EXPECT_TRUE(if_range_allows(date, "\"e\"", date));
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:38 GMT", "\"e\"", date));
  EXPECT_FALSE(if_range_allows("yesterday", "\"e\"", date));
}

TEST(Conditional, HttpDates) {
  EXPECT_EQ(net::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_FALSE(net::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850 form: not ours
  EXPECT_FALSE(net::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(net::parse_http_date(""));
}

}  // namespace
}  // namespace cascade::vod
