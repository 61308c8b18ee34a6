#include "media/bit_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::BitWriter;
using testing::bytes;
using testing::Bytes;

TEST(BitReader, ReadsMsbFirst) {
  const Bytes data = bytes({0xa5, 0xff, 0x01});
  BitReader r(data);
  EXPECT_EQ(r.u(1), 1u);
  EXPECT_EQ(r.u(3), 0b010u);
  EXPECT_EQ(r.u(12), 0x5ffu);
  EXPECT_EQ(r.bits_left(), 8u);
  EXPECT_EQ(r.u(8), 0x01u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bits_left(), 0u);
}

TEST(BitReader, ReadPastEndFailsSticky) {
  const Bytes data = bytes({0xff});
  BitReader r(data);
  EXPECT_EQ(r.u(9), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u(1), 0u);
  EXPECT_EQ(r.bits_left(), 0u);
  BitReader s(data);
  s.skip(9);
  EXPECT_FALSE(s.ok());
  BitReader t(data);
  EXPECT_EQ(t.u(33), 0u);  // more than 32 bits at once is refused
  EXPECT_FALSE(t.ok());
}

struct GolombCase {
  std::string bits;  // '0'/'1' string
  uint32_t ue;
  int32_t se;
};

Bytes from_bits(const std::string& bits) {
  BitWriter w;
  for (char c : bits) w.bit(c == '1');
  return w.finish();
}

TEST(BitReader, ExpGolombTable) {
  // ITU-T H.264 Table 9-2 (ue) and Table 9-3 (se mapping).
  const std::vector<GolombCase> cases = {
      {"1", 0, 0},
      {"010", 1, 1},
      {"011", 2, -1},
      {"00100", 3, 2},
      {"00101", 4, -2},
      {"00111", 6, -3},
      {"0001000", 7, 4},
      {"000010001", 16, -8},
      // 31 leading zeros: the largest code that fits 32 bits.
      {std::string(31, '0') + "1" + std::string(31, '1'), 0xfffffffeu, -2147483647},
  };
  for (const GolombCase& c : cases) {
    SCOPED_TRACE(c.bits);
    const Bytes data = from_bits(c.bits);
    BitReader r(data);
    EXPECT_EQ(r.ue(), c.ue);
    EXPECT_TRUE(r.ok());
    BitReader s(data);
    EXPECT_EQ(s.se(), c.se);
    EXPECT_TRUE(s.ok());
  }
}

TEST(BitReader, ExpGolombTooLongOrTruncatedFails) {
  const Bytes too_long = from_bits(std::string(32, '0') + "1" + std::string(32, '0'));
  BitReader r(too_long);
  EXPECT_EQ(r.ue(), 0u);
  EXPECT_FALSE(r.ok());
  const Bytes truncated = from_bits("0001");  // needs 3 more suffix bits
  BitReader s{std::span(truncated).first(1)};
  s.u(4);
  s.ue();
  EXPECT_FALSE(s.ok());
  const Bytes all_zero = bytes({0x00});
  BitReader t(all_zero);
  t.ue();
  EXPECT_FALSE(t.ok());
}

TEST(NalToRbsp, RemovesEmulationPreventionBytes) {
  struct Case {
    Bytes nal, rbsp;
  };
  const std::vector<Case> cases = {
      {bytes({0x00, 0x00, 0x03, 0x01}), bytes({0x00, 0x00, 0x01})},
      {bytes({0x00, 0x00, 0x03, 0x03}), bytes({0x00, 0x00, 0x03})},
      {bytes({0x00, 0x00, 0x03, 0x00, 0x00, 0x03}), bytes({0x00, 0x00, 0x00, 0x00})},
      {bytes({0x00, 0x03, 0x00}), bytes({0x00, 0x03, 0x00})},
      {bytes({0x00, 0x00, 0x00, 0x03}), bytes({0x00, 0x00, 0x00})},
      {bytes({0x12, 0x00, 0x00, 0x03}), bytes({0x12, 0x00, 0x00})},
      {{}, {}},
  };
  for (const Case& c : cases) EXPECT_EQ(nal_to_rbsp(c.nal), c.rbsp);
}

}  // namespace
}  // namespace cascade::media
