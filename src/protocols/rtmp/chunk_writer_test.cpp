#include "protocols/rtmp/chunk_writer.h"

#include <gtest/gtest.h>

#include "protocols/rtmp/chunk_reader.h"
#include "protocols/rtmp/chunk_test_util.h"
#include "protocols/rtmp/control.h"

namespace cascade::rtmp {
namespace {

using testing::Bytes;

TEST(ChunkWriter, GoldenSingleChunk) {
  Bytes out;
  const uint8_t payload[] = {0xAF, 0x01, 0x21};
  append_chunked({8, 0x000102, 1, 6}, payload, 128, out);
  const Bytes expected = {0x06, 0x00, 0x01, 0x02, 0x00, 0x00, 0x03, 0x08,
                          0x01, 0x00, 0x00, 0x00, 0xAF, 0x01, 0x21};
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, GoldenTwoChunksWithType3) {
  Bytes payload(5, 0x11);
  Bytes out;
  append_chunked({9, 0, 1, 7}, payload, 3, out);
  const Bytes expected = {0x07, 0, 0, 0, 0, 0, 5, 9, 1, 0, 0, 0, 0x11, 0x11, 0x11, 0xC7, 0x11, 0x11};
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, GoldenExtendedTimestampOnEveryChunk) {
  Bytes payload(4, 0x22);
  Bytes out;
  append_chunked({9, 0x12345678, 1, 7}, payload, 2, out);
  const Bytes expected = {0x07, 0xFF, 0xFF, 0xFF, 0, 0, 4, 9, 1, 0, 0, 0, 0x12, 0x34, 0x56, 0x78,
                          0x22, 0x22, 0xC7, 0x12, 0x34, 0x56, 0x78, 0x22, 0x22};
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, GoldenSetChunkSize) {
  Bytes out;
  append_set_chunk_size(out, 128, 4096);
  const Bytes expected = {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00};
  EXPECT_EQ(out, expected);
}

TEST(ChunkWriter, GoldenUserControlStreamBegin) {
  Bytes out;
  append_user_control(out, 128, UserControlEvent::kStreamBegin, 1);
  const Bytes expected = {0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(out, expected);
}

struct RoundTrip {
  size_t size;
  uint32_t chunk_size;
  uint32_t timestamp;
  uint32_t csid;
};

class ChunkRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(ChunkRoundTrip, ReaderReassemblesWriterOutput) {
  const RoundTrip& p = GetParam();
  Bytes payload(p.size);
  for (size_t i = 0; i < p.size; ++i) payload[i] = uint8_t(i * 7);
  Bytes wire;
  if (p.chunk_size != kDefaultChunkSize) append_set_chunk_size(wire, 128, p.chunk_size);
  MessageHeader header{9, p.timestamp, 1, p.csid};
  size_t before = wire.size();
  append_chunked(header, payload, p.chunk_size, wire);
  EXPECT_EQ(wire.size() - before, chunked_size(header, p.size, p.chunk_size));

  ChunkReader reader;
  std::vector<Message> messages;
  auto consumed = reader.feed(wire, messages);
  ASSERT_TRUE(consumed) << consumed.error().message;
  ASSERT_EQ(*consumed, wire.size());
  ASSERT_FALSE(messages.empty());
  const Message& m = messages.back();
  EXPECT_EQ(m.timestamp, p.timestamp);
  EXPECT_EQ(m.csid, p.csid);
  ASSERT_EQ(m.payload.size(), p.size);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), m.payload.data()));
}

INSTANTIATE_TEST_SUITE_P(Rtmp, ChunkRoundTrip,
                         ::testing::Values(RoundTrip{0, 128, 0, 3}, RoundTrip{1, 128, 5, 3},
                                           RoundTrip{128, 128, 0, 6}, RoundTrip{129, 128, 0, 6},
                                           RoundTrip{100000, 4096, 123456, 7},
                                           RoundTrip{5000, 128, 0xFFFFFF, 7},
                                           RoundTrip{5000, 1000, 0xFFFFFFF0, 300},
                                           RoundTrip{65536, 60000, 1, 64}));

}  // namespace
}  // namespace cascade::rtmp
