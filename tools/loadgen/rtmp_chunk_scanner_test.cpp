#include "loadgen/rtmp_chunk_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/rtmp/chunk_writer.h"

namespace cascade::loadgen {
namespace {

using Bytes = std::vector<uint8_t>;

struct Seen {
  uint32_t csid;
  uint8_t type_id;
  uint32_t timestamp;
  uint32_t stream_id;
  uint32_t length;
  Bytes head;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{csid " << s.csid << " type " << int(s.type_id) << " ts " << s.timestamp << " msid "
            << s.stream_id << " len " << s.length << " head " << s.head.size() << "}";
}

class Collect : public RtmpMessageSink {
 public:
  bool on_message(const RtmpMessage& m) override {
    seen.push_back({m.csid, m.type_id, m.timestamp, m.stream_id, m.length,
                    Bytes(m.head.begin(), m.head.end())});
    return true;
  }
  std::vector<Seen> seen;
};

// Feeds `bytes` in pieces of `step` (0: all at once) the way the worker does:
// the unconsumed tail is fed again in front of the next piece, and must stay
// within kMaxHeaderBytes.
Status feed_in_pieces(RtmpChunkScanner& scanner, const Bytes& bytes, size_t step,
                      RtmpMessageSink& sink) {
  Bytes carry;
  size_t pos = 0;
  if (step == 0) step = bytes.size();
  while (pos < bytes.size()) {
    size_t n = std::min(step, bytes.size() - pos);
    Bytes buffer = carry;
    buffer.insert(buffer.end(), bytes.begin() + pos, bytes.begin() + pos + n);
    pos += n;
    auto consumed = scanner.feed(buffer, sink);
    if (!consumed) return consumed.error();
    carry.assign(buffer.begin() + *consumed, buffer.end());
    EXPECT_LE(carry.size(), RtmpChunkScanner::kMaxHeaderBytes);
  }
  EXPECT_TRUE(carry.empty()) << carry.size() << " bytes left over";
  return {};
}

Bytes payload(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

Bytes head_of(const Bytes& b, size_t n = RtmpChunkScanner::kPrefixBytes) {
  return Bytes(b.begin(), b.begin() + std::min(n, b.size()));
}

void put24(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 16));
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 24));
  put24(b, v & 0xFFFFFF);
}
// RTMP spec 5.3.1.1 basic header (csid < 64 only).
void basic(Bytes& b, uint8_t fmt, uint32_t csid) {
  b.push_back(uint8_t(fmt << 6 | csid));
}
void header0(Bytes& b, uint32_t csid, uint32_t ts_field, uint32_t len, uint8_t type,
             uint32_t msid) {
  basic(b, 0, csid);
  put24(b, ts_field);
  put24(b, len);
  b.push_back(type);
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(msid >> (8 * i)));
}
void header1(Bytes& b, uint32_t csid, uint32_t delta_field, uint32_t len, uint8_t type) {
  basic(b, 1, csid);
  put24(b, delta_field);
  put24(b, len);
  b.push_back(type);
}
void header2(Bytes& b, uint32_t csid, uint32_t delta_field) {
  basic(b, 2, csid);
  put24(b, delta_field);
}
void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}

Bytes chunked(uint8_t type, uint32_t ts, uint32_t msid, uint32_t csid, const Bytes& body,
              uint32_t chunk_size) {
  Bytes out;
  rtmp::append_chunked({type, ts, msid, csid}, body, chunk_size, out);
  return out;
}

// Messages written by the project's chunk writer (type 0 + type 3 headers),
// across chunk sizes, csid forms, extended timestamps and feed splits.
struct WriterCase {
  const char* name;
  uint32_t csid;
  uint32_t timestamp;
  size_t size;
  uint32_t chunk_size;
};

class ScannerWriterTest : public ::testing::TestWithParam<std::tuple<WriterCase, size_t>> {};

TEST_P(ScannerWriterTest, ReportsEachMessage) {
  const auto& [c, step] = GetParam();
  Bytes stream;
  if (c.chunk_size != 128) {
    Bytes size_payload;
    put32(size_payload, c.chunk_size);
    append(stream, chunked(1, 0, 0, 2, size_payload, 128));
  }
  Bytes a = payload(c.size, 3), b = payload(c.size / 2 + 1, 9);
  append(stream, chunked(9, c.timestamp, 1, c.csid, a, c.chunk_size));
  append(stream, chunked(8, c.timestamp + 23, 1, c.csid + 1, b, c.chunk_size));

  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, stream, step, sink));
  size_t first = c.chunk_size != 128 ? 1 : 0;
  ASSERT_EQ(sink.seen.size(), first + 2);
  EXPECT_EQ(sink.seen[first], (Seen{c.csid, 9, c.timestamp, 1, uint32_t(a.size()), head_of(a)}));
  EXPECT_EQ(sink.seen[first + 1],
            (Seen{c.csid + 1, 8, c.timestamp + 23, 1, uint32_t(b.size()), head_of(b)}));
  EXPECT_EQ(scanner.chunk_size(), c.chunk_size);
  EXPECT_EQ(scanner.bytes_received(), stream.size());
}

const WriterCase kWriterCases[] = {
    {"small", 6, 40, 10, 128},
    {"exactly_one_chunk", 7, 1000, 128, 128},
    {"many_chunks", 7, 1000, 1000, 128},
    {"large_chunk_size", 7, 33, 20000, 4096},
    {"chunk_size_1", 4, 5, 40, 1},
    {"two_byte_csid", 100, 77, 300, 128},
    {"three_byte_csid", 400, 77, 300, 128},
    {"extended_timestamp", 7, 0x01000000, 700, 128},
    {"extended_timestamp_boundary", 7, 0xFFFFFF, 300, 128},
    {"empty_payload", 5, 9, 0, 128},
};

INSTANTIATE_TEST_SUITE_P(Cases, ScannerWriterTest,
                         ::testing::Combine(::testing::ValuesIn(kWriterCases),
                                            ::testing::Values(0u, 1u, 5u, 129u)),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param).name) + "_step" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

TEST(RtmpChunkScanner, HeaderCompressionTypes1To3) {
  // RTMP spec 5.3.2.1: type 0, then type 2 (same length/type), then type 3
  // starting new messages repeats the last delta.
  Bytes s;
  Bytes p = payload(32);
  header0(s, 4, 1000, 32, 8, 1);
  append(s, p);
  header2(s, 4, 20);
  append(s, p);
  basic(s, 3, 4);
  append(s, p);
  header1(s, 4, 40, 10, 9);  // new length and type
  append(s, payload(10));
  basic(s, 3, 4);  // repeats delta 40
  append(s, payload(10));
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 3, sink));
  ASSERT_EQ(sink.seen.size(), 5u);
  EXPECT_EQ(sink.seen[0].timestamp, 1000u);
  EXPECT_EQ(sink.seen[1].timestamp, 1020u);
  EXPECT_EQ(sink.seen[2].timestamp, 1040u);
  EXPECT_EQ(sink.seen[3].timestamp, 1080u);
  EXPECT_EQ(sink.seen[3].type_id, 9);
  EXPECT_EQ(sink.seen[3].length, 10u);
  EXPECT_EQ(sink.seen[4].timestamp, 1120u);
  EXPECT_EQ(sink.seen[4].stream_id, 1u);
}

TEST(RtmpChunkScanner, ExtendedTimestampDeltaAndOmittedOnContinuation) {
  Bytes s;
  header0(s, 6, 0xFFFFFF, 200, 9, 1);
  put32(s, 0x12345678);
  append(s, payload(128));
  basic(s, 3, 6);  // continuation without the extended timestamp (some encoders)
  append(s, payload(72));
  header1(s, 6, 0xFFFFFF, 5, 9);  // extended delta
  put32(s, 0x01000000);
  append(s, payload(5));
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 1, sink));
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_EQ(sink.seen[0].timestamp, 0x12345678u);
  EXPECT_EQ(sink.seen[0].length, 200u);
  EXPECT_EQ(sink.seen[1].timestamp, 0x13345678u);
}

TEST(RtmpChunkScanner, InterleavedChunkStreams) {
  Bytes s, v = payload(200, 1), a = payload(150, 2);
  header0(s, 7, 10, 200, 9, 1);
  s.insert(s.end(), v.begin(), v.begin() + 128);
  header0(s, 6, 11, 150, 8, 1);
  s.insert(s.end(), a.begin(), a.begin() + 128);
  basic(s, 3, 7);
  s.insert(s.end(), v.begin() + 128, v.end());
  basic(s, 3, 6);
  s.insert(s.end(), a.begin() + 128, a.end());
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 7, sink));
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_EQ(sink.seen[0], (Seen{7, 9, 10, 1, 200, head_of(v)}));
  EXPECT_EQ(sink.seen[1], (Seen{6, 8, 11, 1, 150, head_of(a)}));
}

TEST(RtmpChunkScanner, CapturesWholeCommandMessages) {
  Bytes command = payload(300, 5), data = payload(300, 6);
  Bytes s = chunked(20, 0, 0, 3, command, 128);
  append(s, chunked(18, 0, 1, 5, data, 128));
  append(s, chunked(20, 0, 0, 3, payload(5000), 128));  // over the capture limit
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 100, sink));
  ASSERT_EQ(sink.seen.size(), 3u);
  EXPECT_EQ(sink.seen[0].head, command);
  EXPECT_EQ(sink.seen[1].head, head_of(data));
  EXPECT_EQ(sink.seen[2].head.size(), RtmpChunkScanner::kPrefixBytes);
}

TEST(RtmpChunkScanner, AcknowledgesEachWindow) {
  // RTMP spec 5.4.4 / 5.4.3.
  Bytes window;
  put32(window, 1000);
  Bytes s = chunked(5, 0, 0, 2, window, 128);
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 0, sink));
  EXPECT_EQ(scanner.window_ack_size(), 1000u);
  EXPECT_FALSE(scanner.take_acknowledgement());
  Bytes media = chunked(9, 0, 1, 7, payload(900), 128);  // 16 + 931 bytes: not yet
  ASSERT_TRUE(feed_in_pieces(scanner, media, 0, sink));
  EXPECT_FALSE(scanner.take_acknowledgement());
  ASSERT_TRUE(feed_in_pieces(scanner, media, 0, sink));
  auto ack = scanner.take_acknowledgement();
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, scanner.bytes_received());
  EXPECT_GE(*ack, 1000u);
  EXPECT_FALSE(scanner.take_acknowledgement());
}

TEST(RtmpChunkScanner, AbortDiscardsThePartialMessage) {
  Bytes s;
  header0(s, 7, 0, 300, 9, 1);
  append(s, payload(128));
  Bytes abort;
  put32(abort, 7);
  append(s, chunked(2, 0, 0, 2, abort, 128));
  header0(s, 7, 50, 4, 9, 1);  // a new message may start after the Abort
  append(s, payload(4));
  RtmpChunkScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, s, 0, sink));
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_EQ(sink.seen[0].type_id, 2);
  EXPECT_EQ(sink.seen[1].timestamp, 50u);
  EXPECT_EQ(sink.seen[1].length, 4u);
}

struct ErrorCase {
  const char* name;
  Bytes bytes;
  const char* message_part;
};

Bytes set_chunk_size(uint32_t size) {
  Bytes p;
  put32(p, size);
  return chunked(1, 0, 0, 2, p, 128);
}

std::vector<ErrorCase> error_cases() {
  std::vector<ErrorCase> cases;
  {
    Bytes s;
    header1(s, 5, 0, 4, 9);
    cases.push_back({"type1_first", s, "starts with a type 1 header"});
  }
  {
    Bytes s;
    basic(s, 3, 5);
    cases.push_back({"type3_first", s, "starts with a type 3 header"});
  }
  {
    Bytes s;
    header0(s, 7, 0, 300, 9, 1);
    append(s, payload(128));
    header0(s, 7, 0, 4, 9, 1);
    cases.push_back({"new_header_mid_message", s, "before its message completed"});
  }
  {
    Bytes s;
    for (uint32_t csid = 3; csid < 3 + RtmpChunkScanner::kMaxChunkStreams + 1; ++csid) {
      header0(s, csid, 0, 0, 9, 1);
    }
    cases.push_back({"too_many_chunk_streams", s, "chunk streams"});
  }
  {
    Bytes s;
    header0(s, 7, 0, 0xFFFFFF, 9, 1);
    cases.push_back({"message_too_large", s, "exceeds"});
  }
  cases.push_back({"chunk_size_zero", set_chunk_size(0), "invalid chunk size 0"});
  cases.push_back({"chunk_size_msb", set_chunk_size(0x80000000), "invalid chunk size"});
  {
    Bytes s = chunked(1, 0, 0, 2, Bytes{0, 1}, 128);
    cases.push_back({"short_set_chunk_size", s, "Set Chunk Size message of 2 bytes"});
  }
  return cases;
}

TEST(RtmpChunkScanner, StructuralErrors) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.name);
    RtmpScannerLimits limits;
    limits.max_message_size = 1 << 20;
    RtmpChunkScanner scanner(limits);
    Collect sink;
    Status status = feed_in_pieces(scanner, c.bytes, 0, sink);
    ASSERT_FALSE(status);
    EXPECT_NE(status.error().message.find(c.message_part), std::string::npos)
        << status.error().message;
    // Sticky.
    EXPECT_FALSE(scanner.feed(Bytes{0}, sink));
  }
}

TEST(RtmpChunkScanner, SinkCanStopTheFeed) {
  struct StopAfterOne : RtmpMessageSink {
    bool on_message(const RtmpMessage&) override {
      ++count;
      return false;
    }
    int count = 0;
  } sink;
  Bytes s = chunked(9, 0, 1, 7, payload(10), 128);
  append(s, chunked(9, 1, 1, 7, payload(10), 128));
  RtmpChunkScanner scanner;
  auto consumed = scanner.feed(s, sink);
  ASSERT_TRUE(consumed);
  EXPECT_EQ(sink.count, 1);
  EXPECT_EQ(*consumed, s.size() / 2);
}

}  // namespace
}  // namespace cascade::loadgen
