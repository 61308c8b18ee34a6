#include "loadgen/http_body.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::loadgen {
namespace {

class Collect : public BodySink {
 public:
  bool on_body(std::span<const uint8_t> bytes) override {
    body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return true;
  }
  std::string body;
};

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status decode(BodyDecoder& decoder, std::string_view wire, size_t step, Collect& sink) {
  if (step == 0) step = wire.size();
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    auto piece = wire.substr(pos, step);
    auto consumed = decoder.feed(as_bytes(piece), sink);
    if (!consumed) return consumed.error();
    EXPECT_EQ(*consumed, piece.size());
  }
  return {};
}

struct ChunkedCase {
  const char* name;
  std::string wire;
  std::string body;
  bool done;
};

class ChunkedTest : public ::testing::TestWithParam<std::tuple<ChunkedCase, size_t>> {};

TEST_P(ChunkedTest, DecodesInPlace) {
  const auto& [c, step] = GetParam();
  BodyDecoder decoder(BodyFraming::kChunked);
  Collect sink;
  ASSERT_TRUE(decode(decoder, c.wire, step, sink));
  EXPECT_EQ(sink.body, c.body);
  EXPECT_EQ(decoder.done(), c.done);
  EXPECT_EQ(decoder.body_bytes(), c.body.size());
}

const ChunkedCase kChunkedCases[] = {
    {"one_chunk", "5\r\nhello\r\n", "hello", false},
    {"two_chunks_and_last", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", true},
    {"hex_sizes", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", true},
    {"leading_zeros", "0005\r\nhello\r\n", "hello", false},
    {"extensions", "5;name=value\r\nhello\r\n3 ; x\r\nabc\r\n0;last\r\n\r\n", "helloabc", true},
    {"trailers", "2\r\nok\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", "ok", true},
    {"crlf_in_data", "4\r\n\r\n\r\n\r\n", "\r\n\r\n", false},
};

INSTANTIATE_TEST_SUITE_P(Cases, ChunkedTest,
                         ::testing::Combine(::testing::ValuesIn(kChunkedCases),
                                            ::testing::Values(0u, 1u, 2u, 7u)),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param).name) + "_step" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

TEST(BodyDecoder, ChunkedErrors) {
  struct Case {
    const char* name;
    std::string wire;
    const char* message_part;
  };
  const Case cases[] = {
      {"no_size", "\r\n", "starts with 0x0d"},
      {"bad_size", "x\r\n", "starts with 0x78"},
      {"missing_data_crlf", "3\r\nabcX", "not followed by CRLF"},
      {"bare_lf_after_size", "3\nabc", "bad byte 0x0a"},
      {"cr_without_lf", "3\rabc", "not ended by CRLF"},
      {"huge_size", "1234567890abcdef0\r\n", "too large"},
      {"after_end", "0\r\n\r\nX", "after the end of the body"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    BodyDecoder decoder(BodyFraming::kChunked);
    Collect sink;
    Status status = decode(decoder, c.wire, 1, sink);
    ASSERT_FALSE(status);
    EXPECT_NE(status.error().message.find(c.message_part), std::string::npos)
        << status.error().message;
  }
}

TEST(BodyDecoder, ContentLengthAndCloseDelimited) {
  {
    BodyDecoder decoder(BodyFraming::kContentLength, 5);
    Collect sink;
    ASSERT_TRUE(decode(decoder, "hel", 0, sink));
    EXPECT_FALSE(decoder.done());
    ASSERT_TRUE(decode(decoder, "lo", 0, sink));
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(sink.body, "hello");
    EXPECT_FALSE(decoder.feed(as_bytes("!"), sink));
  }
  {
    BodyDecoder decoder(BodyFraming::kClose);
    Collect sink;
    ASSERT_TRUE(decode(decoder, "anything\r\n0\r\n", 3, sink));
    EXPECT_EQ(sink.body, "anything\r\n0\r\n");
    EXPECT_FALSE(decoder.done());
  }
}

TEST(ResponseHead, FindsTheEnd) {
  EXPECT_EQ(find_head_end("HTTP/1.1 200 OK\r\n"), 0u);
  EXPECT_EQ(find_head_end("HTTP/1.1 200 OK\r\n\r\nbody"), 19u);
}

TEST(ResponseHead, Parses) {
  auto head = parse_response_head(
      "HTTP/1.1 200 OK\r\nServer: cascade\r\ntransfer-encoding:  gzip, Chunked \r\n"
      "Content-Length: 10\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->version_minor, 1);
  EXPECT_EQ(head->framing, BodyFraming::kChunked);  // RFC 9112 6.3: TE wins

  head = parse_response_head("HTTP/1.0 404 Not Found\r\nContent-Length: 12\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  EXPECT_EQ(head->version_minor, 0);
  EXPECT_EQ(head->framing, BodyFraming::kContentLength);
  EXPECT_EQ(head->content_length, 12u);

  head = parse_response_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->framing, BodyFraming::kClose);

  head = parse_response_head("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->framing, BodyFraming::kClose);
}

TEST(ResponseHead, Rejects) {
  EXPECT_FALSE(parse_response_head("ICY 200 OK\r\n\r\n"));
  EXPECT_FALSE(parse_response_head("HTTP/1.1 2x0 OK\r\n\r\n"));
  EXPECT_FALSE(parse_response_head("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"));
  EXPECT_FALSE(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"));
}

}  // namespace
}  // namespace cascade::loadgen
