#include "protocols/rtmp/chunk_reader.h"

#include <gtest/gtest.h>

#include "media/test_corpus.h"
#include "protocols/rtmp/chunk_test_util.h"

namespace cascade::rtmp {
namespace {

using namespace testing;

struct Expected {
  uint8_t type;
  uint32_t timestamp;
  uint32_t stream_id;
  uint32_t csid;
  size_t length;
  uint8_t first_byte;
};

struct Case {
  const char* name;
  Bytes input;
  std::vector<Expected> messages;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  {
    Bytes b;
    fmt0(b, 3, 1000, 5, 20, 0);
    data(b, 5, 0x10);
    out.push_back({"type0_single_chunk", b, {{20, 1000, 0, 3, 5, 0x10}}});
  }
  {
    // 300 bytes at the default chunk size 128: type 0 + two type 3 chunks.
    Bytes b;
    fmt0(b, 6, 40, 300, 9, 1);
    data(b, 128, 0);
    fmt3(b, 6);
    data(b, 128, 128);
    fmt3(b, 6);
    data(b, 44, 0);
    out.push_back({"type3_continuations", b, {{9, 40, 1, 6, 300, 0}}});
  }
  {
    // RTMP spec 5.3.2.1 example: audio, then type 2 and type 3 headers
    // reuse length/type/stream and the delta.
    Bytes b;
    fmt0(b, 4, 1000, 32, 8, 1);
    data(b, 32, 1);
    fmt2(b, 4, 20);
    data(b, 32, 2);
    fmt3(b, 4);
    data(b, 32, 3);
    fmt3(b, 4);
    data(b, 32, 4);
    out.push_back({"spec_example_1_type2_type3_deltas",
                   b,
                   {{8, 1000, 1, 4, 32, 1},
                    {8, 1020, 1, 4, 32, 2},
                    {8, 1040, 1, 4, 32, 3},
                    {8, 1060, 1, 4, 32, 4}}});
  }
  {
    Bytes b;
    fmt0(b, 5, 100, 4, 9, 1);
    data(b, 4, 7);
    fmt1(b, 5, 33, 6, 8);
    data(b, 6, 9);
    out.push_back({"type1_changes_length_and_type", b, {{9, 100, 1, 5, 4, 7}, {8, 133, 1, 5, 6, 9}}});
  }
  {
    // A type 3 chunk starting a message after a type 0: the delta is the
    // type 0 header's timestamp field (RTMP spec 5.3.1.2.4).
    Bytes b;
    fmt0(b, 3, 10, 2, 20, 0);
    data(b, 2, 1);
    fmt3(b, 3);
    data(b, 2, 2);
    out.push_back({"type3_new_message_after_type0", b, {{20, 10, 0, 3, 2, 1}, {20, 20, 0, 3, 2, 2}}});
  }
  {
    // Extended timestamp: present after the type 0 header and, for the
    // continuation chunk, repeated after the type 3 header.
    Bytes b;
    fmt0(b, 7, 0x01000000, 200, 9, 1);
    data(b, 128, 0);
    fmt3(b, 7);
    put32(b, 0x01000000);
    data(b, 72, 128);
    out.push_back({"extended_timestamp_repeated_on_type3", b, {{9, 0x01000000, 1, 7, 200, 0}}});
  }
  {
    // Some encoders omit it on continuation chunks.
    Bytes b;
    fmt0(b, 7, 0x01000000, 200, 9, 1);
    data(b, 128, 0);
    fmt3(b, 7);
    data(b, 72, 128);
    out.push_back({"extended_timestamp_omitted_on_continuation", b, {{9, 0x01000000, 1, 7, 200, 0}}});
  }
  {
    Bytes b;
    fmt0(b, 70, 1, 1, 8, 1);  // 2-byte basic header
    data(b, 1, 0xAA);
    fmt0(b, 400, 2, 1, 9, 1);  // 3-byte basic header
    data(b, 1, 0xBB);
    out.push_back({"two_and_three_byte_csid", b, {{8, 1, 1, 70, 1, 0xAA}, {9, 2, 1, 400, 1, 0xBB}}});
  }
  {
    // Set Chunk Size applies to the very next chunk in the same buffer.
    Bytes b;
    fmt0(b, 2, 0, 4, 1, 0);
    put32(b, 256);
    fmt0(b, 6, 0, 200, 9, 1);
    data(b, 200, 5);
    out.push_back({"set_chunk_size_applies_immediately", b, {{1, 0, 0, 2, 4, 0}, {9, 0, 1, 6, 200, 5}}});
  }
  {
    // Interleaved chunk streams: audio between two video chunks.
    Bytes b;
    fmt0(b, 6, 0, 130, 9, 1);
    data(b, 128, 0);
    fmt0(b, 4, 0, 3, 8, 1);
    data(b, 3, 0x55);
    fmt3(b, 6);
    data(b, 2, 0);
    out.push_back({"interleaved_chunk_streams", b, {{8, 0, 1, 4, 3, 0x55}, {9, 0, 1, 6, 130, 0}}});
  }
  {
    // Abort discards the partial message on chunk stream 6.
    Bytes b;
    fmt0(b, 6, 0, 200, 9, 1);
    data(b, 128, 0);
    fmt0(b, 2, 0, 4, 2, 0);
    put32(b, 6);
    fmt0(b, 6, 5, 1, 9, 1);
    data(b, 1, 0x77);
    out.push_back({"abort_discards_partial", b, {{2, 0, 0, 2, 4, 0}, {9, 5, 1, 6, 1, 0x77}}});
  }
  {
    Bytes b;
    fmt0(b, 3, 0, 0, 20, 0);
    out.push_back({"zero_length_message", b, {{20, 0, 0, 3, 0, 0}}});
  }
  return out;
}

class ChunkReaderCases : public ::testing::TestWithParam<Case> {};

void expect_messages(const std::vector<Message>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].type_id, want[i].type);
    EXPECT_EQ(got[i].timestamp, want[i].timestamp);
    EXPECT_EQ(got[i].stream_id, want[i].stream_id);
    EXPECT_EQ(got[i].csid, want[i].csid);
    ASSERT_EQ(got[i].payload.size(), want[i].length);
    if (want[i].length > 0 && want[i].type >= 8) {
      EXPECT_EQ(got[i].payload[0], want[i].first_byte);
    }
  }
}

TEST_P(ChunkReaderCases, WholeBuffer) {
  media::testing::save_seed("chunk_reader", GetParam().name, GetParam().input);
  ChunkReader reader;
  std::vector<Message> messages;
  auto consumed = reader.feed(GetParam().input, messages);
  ASSERT_TRUE(consumed) << consumed.error().message;
  EXPECT_EQ(*consumed, GetParam().input.size());
  expect_messages(messages, GetParam().messages);
}

TEST_P(ChunkReaderCases, ByteAtATimeGivesTheSameMessages) {
  ChunkReader reader;
  std::vector<Message> messages;
  const Bytes& input = GetParam().input;
  Bytes pending;
  for (uint8_t byte : input) {
    pending.push_back(byte);
    auto consumed = reader.feed(pending, messages);
    ASSERT_TRUE(consumed) << consumed.error().message;
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(*consumed));
  }
  EXPECT_TRUE(pending.empty());
  expect_messages(messages, GetParam().messages);
  EXPECT_EQ(reader.bytes_consumed(), input.size());
}

INSTANTIATE_TEST_SUITE_P(Rtmp, ChunkReaderCases, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return std::string(p.param.name); });

struct BadCase {
  const char* name;
  Bytes input;
  const char* error_part;
};

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> out;
  {
    Bytes b;
    fmt0(b, 2, 0, 4, 1, 0);
    put32(b, 0x7FFFFFFF);
    out.push_back({"chunk_size_0x7fffffff", b, "exceeds the maximum message size"});
  }
  {
    Bytes b;
    fmt0(b, 2, 0, 4, 1, 0);
    put32(b, 0);
    out.push_back({"chunk_size_zero", b, "invalid chunk size 0"});
  }
  {
    Bytes b;
    fmt0(b, 2, 0, 4, 1, 0);
    put32(b, 0x80000010);
    out.push_back({"chunk_size_high_bit", b, "invalid chunk size"});
  }
  {
    Bytes b;
    fmt0(b, 6, 0, 0xFFFFFF, 9, 1);
    out.push_back({"message_longer_than_limit", b, "exceeds the limit"});
  }
  {
    Bytes b;
    fmt1(b, 6, 0, 10, 9);
    out.push_back({"first_header_not_type0", b, "starts with a type 1 header"});
  }
  {
    Bytes b;
    fmt0(b, 2, 0, 2, 1, 0);
    data(b, 2, 0);
    out.push_back({"truncated_set_chunk_size", b, "truncated Set Chunk Size"});
  }
  {
    Bytes b;
    // First chunks of 70 messages, none completed.
    for (uint32_t csid = 3; csid < 3 + 70; ++csid) {
      fmt0(b, csid, 0, 200, 9, 1);
      data(b, 128, 0);
    }
    out.push_back({"too_many_chunk_streams", b, "too many chunk streams"});
  }
  return out;
}

class ChunkReaderBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(ChunkReaderBadInput, FailsWithReason) {
  media::testing::save_seed("chunk_reader", GetParam().name, GetParam().input);
  ChunkReaderLimits limits;
  limits.max_message_size = 1 << 20;
  ChunkReader reader(limits);
  std::vector<Message> messages;
  auto consumed = reader.feed(GetParam().input, messages);
  ASSERT_FALSE(consumed);
  EXPECT_NE(consumed.error().message.find(GetParam().error_part), std::string::npos)
      << consumed.error().message;
}

INSTANTIATE_TEST_SUITE_P(Rtmp, ChunkReaderBadInput, ::testing::ValuesIn(bad_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ChunkReader, PendingBytesAreBounded) {
  ChunkReaderLimits limits;
  limits.max_message_size = 1000;
  limits.max_pending_bytes = 2500;
  ChunkReader reader(limits);
  Bytes b;
  for (uint32_t csid = 3; csid < 6; ++csid) {
    fmt0(b, csid, 0, 1000, 9, 1);
    data(b, 128, 0);
  }
  std::vector<Message> messages;
  auto consumed = reader.feed(b, messages);
  ASSERT_FALSE(consumed);
  EXPECT_NE(consumed.error().message.find("partial messages"), std::string::npos);
}

TEST(ChunkReader, IncompleteHeaderIsLeftUnconsumed) {
  ChunkReader reader;
  Bytes b;
  fmt0(b, 3, 0, 4, 20, 0);
  std::vector<Message> messages;
  auto consumed = reader.feed(std::span(b).first(6), messages);
  ASSERT_TRUE(consumed);
  EXPECT_EQ(*consumed, 0u);
}

}  // namespace
}  // namespace cascade::rtmp
