#include "loadgen/http_response_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::loadgen {
namespace {

struct Response {
  int status = 0;
  bool close = false;
  std::string body;
  bool operator==(const Response&) const = default;
};

class Collect : public ResponseSink {
 public:
  bool on_response_head(const ResponseHead& head) override {
    EXPECT_FALSE(open_);
    open_ = true;
    current = Response{head.status, head.connection_close, {}};
    return true;
  }
  bool on_response_body(std::span<const uint8_t> bytes) override {
    EXPECT_TRUE(open_);
    current.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return true;
  }
  bool on_response_end() override {
    EXPECT_TRUE(open_);
    open_ = false;
    done.push_back(current);
    return stop_after_end == 0 || done.size() < stop_after_end;
  }
  Response current;
  std::vector<Response> done;
  size_t stop_after_end = 0;

 private:
  bool open_ = false;
};

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Feeds `wire` in pieces of `step` bytes (0: whole); returns the error, if any.
std::optional<std::string> read_all(ResponseReader& reader, std::string_view wire, size_t step,
                                    Collect& sink) {
  if (step == 0) step = wire.size();
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    auto piece = wire.substr(pos, step);
    auto consumed = reader.feed(as_bytes(piece), sink);
    if (!consumed) return consumed.error().message;
    EXPECT_EQ(*consumed, piece.size());
  }
  return std::nullopt;
}

const std::string kThreeResponses =
    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.apple.mpegurl\r\nContent-Length: 8\r\n\r\n"
    "#EXTM3U\n"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nmoof\r\n3;x=y\r\nabc\r\n0\r\n"
    "Trailer: 1\r\n\r\n"
    "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n"
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    "HTTP/1.1 503 Service Unavailable\r\nConnection: keep-alive, Close\r\nContent-Length: 3\r\n"
    "\r\nno\n";

const std::vector<Response> kExpected = {{200, false, "#EXTM3U\n"},
                                         {200, false, "moofabc"},
                                         {304, false, ""},
                                         {404, false, ""},
                                         {503, true, "no\n"}};

TEST(ResponseReader, SequenceSplitAnywhere) {
  for (size_t step : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(7), size_t(64)}) {
    SCOPED_TRACE(step);
    ResponseReader reader;
    Collect sink;
    EXPECT_EQ(read_all(reader, kThreeResponses, step, sink), std::nullopt);
    EXPECT_EQ(sink.done, kExpected);
    EXPECT_EQ(reader.responses(), 5u);
    EXPECT_TRUE(reader.idle());
  }
}

TEST(ResponseReader, IdleOnlyBetweenResponses) {
  ResponseReader reader;
  Collect sink;
  EXPECT_TRUE(reader.idle());
  ASSERT_TRUE(reader.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-"), sink));
  EXPECT_FALSE(reader.idle());
  ASSERT_TRUE(reader.feed(as_bytes("Length: 4\r\n\r\nab"), sink));
  EXPECT_FALSE(reader.idle());
  ASSERT_TRUE(reader.feed(as_bytes("cd"), sink));
  EXPECT_TRUE(reader.idle());
  reader.reset();
  EXPECT_EQ(reader.responses(), 0u);
}

TEST(ResponseReader, StopsWhereTheSinkSaysAndResumes) {
  ResponseReader reader;
  Collect sink;
  sink.stop_after_end = 1;
  auto consumed = reader.feed(as_bytes(kThreeResponses), sink);
  ASSERT_TRUE(consumed);
  EXPECT_EQ(*consumed, kThreeResponses.find("HTTP/1.1 100"));
  ASSERT_EQ(sink.done.size(), 1u);
  sink.stop_after_end = 0;
  ASSERT_TRUE(reader.feed(as_bytes(kThreeResponses).subspan(*consumed), sink));
  EXPECT_EQ(sink.done, kExpected);
}

TEST(ResponseReader, Http10WithoutKeepAliveCloses) {
  ResponseReader reader;
  Collect sink;
  ASSERT_EQ(read_all(reader,
                     "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"
                     "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\ny",
                     0, sink),
            std::nullopt);
  ASSERT_EQ(sink.done.size(), 2u);
  EXPECT_TRUE(sink.done[0].close);
  EXPECT_FALSE(sink.done[1].close);
}

struct BadCase {
  const char* name;
  std::string wire;
};

class ResponseReaderRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ResponseReaderRejects, StickyError) {
  for (size_t step : {size_t(0), size_t(1)}) {
    ResponseReader reader;
    Collect sink;
    auto error = read_all(reader, GetParam().wire, step, sink);
    ASSERT_TRUE(error) << GetParam().name << " step " << step;
    EXPECT_FALSE(reader.feed(as_bytes("HTTP/1.1 200 OK\r\n\r\n"), sink));
  }
}

const BadCase kBadCases[] = {
    {"close_delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabc"},
    {"unknown_coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"},
    {"bad_status_line", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"},
    {"not_http", "ICY 200 OK\r\nContent-Length: 0\r\n\r\n"},
    {"bad_length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"},
    {"bad_field", "HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 0\r\n\r\n"},
    {"bad_chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
    {"chunk_without_crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab"},
    {"head_too_large", "HTTP/1.1 200 OK\r\nX: " + std::string(20'000, 'a') + "\r\n\r\n"},
};

INSTANTIATE_TEST_SUITE_P(Cases, ResponseReaderRejects, ::testing::ValuesIn(kBadCases),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(StatusHasNoBody, Rfc9110) {
  EXPECT_TRUE(status_has_no_body(204));
  EXPECT_TRUE(status_has_no_body(304));
  EXPECT_TRUE(status_has_no_body(100));
  EXPECT_FALSE(status_has_no_body(200));
  EXPECT_FALSE(status_has_no_body(404));
}

}  // namespace
}  // namespace cascade::loadgen
