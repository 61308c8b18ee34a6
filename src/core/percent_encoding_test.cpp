#include "core/percent_encoding.h"

#include <gtest/gtest.h>

namespace cascade {
namespace {

TEST(PercentEncoding, UnreservedPassEverythingElseIsEncoded) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b/c?d#e%f&g=h:i"), "a%20b%2Fc%3Fd%23e%25f%26g%3Dh%3Ai");
  EXPECT_EQ(percent_encode("\xC3\xA9\x7F"), "%C3%A9%7F");  // bytes, upper-case hex
  EXPECT_EQ(percent_encode(""), "");
  std::string out = "x=";
  append_percent_encoded(out, "..");
  EXPECT_EQ(out, "x=..");
}

TEST(PercentEncoding, DecodeUndoesEncode) {
  const std::string original = "film (2024) / ümlaut & 100%.mp4";
  std::string decoded;
  ASSERT_TRUE(percent_decode(percent_encode(original), decoded));
  EXPECT_EQ(decoded, original);
}

TEST(PercentEncoding, DecodeRefusesMalformedEscapesAndNul) {
  std::string out;
  for (const char* bad : {"%", "%4", "%zz", "a%2", "%00"}) {
    EXPECT_FALSE(percent_decode(bad, out)) << bad;
  }
  ASSERT_TRUE(percent_decode("%41%62c", out));
  EXPECT_EQ(out, "Abc");
}

}  // namespace
}  // namespace cascade
