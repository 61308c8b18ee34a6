#include "loadgen/flv_tag_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/flv.h"

namespace cascade::loadgen {
namespace {

using Bytes = std::vector<uint8_t>;

struct Seen {
  uint8_t type;
  uint32_t timestamp;
  uint32_t data_size;
  Bytes head;
  bool operator==(const Seen&) const = default;
};

class Collect : public FlvTagSink {
 public:
  bool on_tag(const FlvTag& t) override {
    seen.push_back({t.type, t.timestamp, t.data_size, Bytes(t.head.begin(), t.head.end())});
    return true;
  }
  std::vector<Seen> seen;
};

Bytes body(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i);
  return b;
}

Bytes head_of(const Bytes& b) {
  return Bytes(b.begin(), b.begin() + std::min(b.size(), FlvTagScanner::kPrefixBytes));
}

// FLV scanner input: whole, byte by byte, and odd splits; all bytes are consumed.
Status feed_in_pieces(FlvTagScanner& scanner, const Bytes& bytes, size_t step, FlvTagSink& sink) {
  if (step == 0) step = bytes.size();
  for (size_t pos = 0; pos < bytes.size(); pos += step) {
    size_t n = std::min(step, bytes.size() - pos);
    auto consumed = scanner.feed(std::span(bytes.data() + pos, n), sink);
    if (!consumed) return consumed.error();
    EXPECT_EQ(*consumed, n);
  }
  return {};
}

class FlvScannerSplitTest : public ::testing::TestWithParam<size_t> {};

TEST_P(FlvScannerSplitTest, ReportsTagsInOrder) {
  Bytes stream;
  flv::write_file_header(true, true, stream);
  Bytes v1 = body(40, 0x17), a1 = body(7, 0xAF), v2 = body(3000, 0x27), empty;
  flv::write_tag(flv::kTagScript, 0, body(30, 2), stream);
  flv::write_tag(flv::kTagVideo, 0, v1, stream);
  flv::write_tag(flv::kTagAudio, 21, a1, stream);
  flv::write_tag(flv::kTagVideo, 0x01020304, v2, stream);  // TimestampExtended
  flv::write_tag(flv::kTagAudio, 50, empty, stream);

  FlvTagScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, stream, GetParam(), sink));
  ASSERT_EQ(sink.seen.size(), 5u);
  EXPECT_TRUE(scanner.header_seen());
  EXPECT_TRUE(scanner.has_audio());
  EXPECT_TRUE(scanner.has_video());
  EXPECT_TRUE(scanner.at_tag_boundary());
  EXPECT_EQ(sink.seen[0].type, flv::kTagScript);
  EXPECT_EQ(sink.seen[1], (Seen{9, 0, 40, head_of(v1)}));
  EXPECT_EQ(sink.seen[2], (Seen{8, 21, 7, a1}));
  EXPECT_EQ(sink.seen[3], (Seen{9, 0x01020304, 3000, head_of(v2)}));
  EXPECT_EQ(sink.seen[4], (Seen{8, 50, 0, {}}));
}

INSTANTIATE_TEST_SUITE_P(Splits, FlvScannerSplitTest, ::testing::Values(0u, 1u, 2u, 13u, 1000u));

TEST(FlvTagScanner, SkipsHeaderPaddingFromDataOffset) {
  Bytes stream = {'F', 'L', 'V', 1, 0x01, 0, 0, 0, 12, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0};
  flv::write_tag(flv::kTagVideo, 5, body(3, 0x17), stream);
  FlvTagScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, stream, 1, sink));
  ASSERT_EQ(sink.seen.size(), 1u);
  EXPECT_FALSE(scanner.has_audio());
  EXPECT_EQ(sink.seen[0].timestamp, 5u);
}

TEST(FlvTagScanner, StopsInsideATag) {
  Bytes stream;
  flv::write_file_header(false, true, stream);
  flv::write_tag(flv::kTagVideo, 0, body(100, 1), stream);
  stream.resize(stream.size() - 20);
  FlvTagScanner scanner;
  Collect sink;
  ASSERT_TRUE(feed_in_pieces(scanner, stream, 0, sink));
  EXPECT_TRUE(sink.seen.empty());
  EXPECT_FALSE(scanner.at_tag_boundary());
}

struct ErrorCase {
  const char* name;
  Bytes bytes;
  const char* message_part;
};

TEST(FlvTagScanner, StructuralErrors) {
  std::vector<ErrorCase> cases;
  Bytes good;
  flv::write_file_header(true, true, good);
  {
    Bytes s = good;
    s[0] = 'G';
    cases.push_back({"signature", s, "not an FLV stream"});
  }
  {
    Bytes s = good;
    s[3] = 2;
    cases.push_back({"version", s, "FLV version 2"});
  }
  {
    Bytes s = good;
    s[8] = 5;
    cases.push_back({"data_offset", s, "DataOffset 5"});
  }
  {
    Bytes s = good;
    s[12] = 1;
    cases.push_back({"previous_tag_size0", s, "PreviousTagSize0 is 1"});
  }
  {
    Bytes s = good;
    flv::write_tag(flv::kTagVideo, 0, body(10, 1), s);
    s.back() = 22;  // 11 + 10 = 21 expected
    cases.push_back({"previous_tag_size", s, "PreviousTagSize 22 after a tag of 10 bytes"});
  }
  {
    Bytes s = good;
    flv::write_tag(flv::kTagVideo, 0, body(10, 1), s);
    s[good.size() + 10] = 1;  // StreamID
    cases.push_back({"stream_id", s, "StreamID is 1"});
  }
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    FlvTagScanner scanner;
    Collect sink;
    Status status = feed_in_pieces(scanner, c.bytes, 3, sink);
    ASSERT_FALSE(status);
    EXPECT_NE(status.error().message.find(c.message_part), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(scanner.feed(Bytes{0}, sink));  // sticky
  }
}

}  // namespace
}  // namespace cascade::loadgen
