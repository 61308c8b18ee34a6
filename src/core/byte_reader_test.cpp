#include "core/byte_reader.h"

#include <gtest/gtest.h>

#include "core/byte_writer.h"

namespace cascade {
namespace {

TEST(ByteReader, ReadsBigEndianFields) {
  const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A};
  ByteReader r(bytes);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16be(), 0x0203);
  EXPECT_EQ(r.u24be(), 0x040506u);
  EXPECT_EQ(r.u32be(), 0x0708090Au);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.empty());
}

TEST(ByteReader, ReadPastEndFailsStickyAndReturnsZero) {
  const uint8_t bytes[] = {0xFF, 0xFF};
  ByteReader r(bytes);
  EXPECT_EQ(r.u24be(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(ByteReader, SignedTwentyFourBit) {
  const uint8_t bytes[] = {0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x10};
  ByteReader r(bytes);
  EXPECT_EQ(r.s24be(), -2);
  EXPECT_EQ(r.s24be(), 16);
}

TEST(ByteWriter, RoundTripsThroughReader) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(7);
  w.u16be(0xBEEF);
  w.u24be(0x123456);
  w.u32be(0xDEADBEEF);
  w.u32le(0x01020304);
  w.f64be(3.5);
  ByteReader r(out);
  EXPECT_EQ(r.u8(), 7);
  EXPECT_EQ(r.u16be(), 0xBEEF);
  EXPECT_EQ(r.u24be(), 0x123456u);
  EXPECT_EQ(r.u32be(), 0xDEADBEEFu);
  EXPECT_EQ(r.u32le(), 0x01020304u);
  EXPECT_EQ(r.f64be(), 3.5);
  EXPECT_TRUE(r.ok());
}

TEST(ByteWriter, F64IsIeee754BigEndian) {
  std::vector<uint8_t> out;
  ByteWriter(out).f64be(1.0);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x3F, 0xF0, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace cascade
