// Fuzzes loadgen's parsers (first byte selects one): the RTMP chunk scanner,
// the HTTP body decoder feeding the FLV tag scanner, the HTTP response reader
// of HLS viewers, and the HLS playlist parser with URI resolution. Each
// stream input is parsed whole and in pieces (the tail carried like the
// worker does); both must report the same events and the same success or
// failure.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "loadgen/flv_tag_scanner.h"
#include "loadgen/hls_playlist.h"
#include "loadgen/http_body.h"
#include "loadgen/http_response_reader.h"
#include "loadgen/rtmp_chunk_scanner.h"

using namespace cascade::loadgen;

namespace {

struct Event {
  uint32_t a, b, c;
  std::vector<uint8_t> head;
  bool operator==(const Event&) const = default;
};

struct Outcome {
  std::vector<Event> events;
  bool failed = false;
  bool operator==(const Outcome&) const = default;
};

struct RtmpSink : RtmpMessageSink {
  bool on_message(const RtmpMessage& m) override {
    out->events.push_back({m.type_id, m.timestamp, m.length, {m.head.begin(), m.head.end()}});
    return true;
  }
  Outcome* out = nullptr;
};

Outcome run_rtmp(std::span<const uint8_t> data, size_t piece) {
  RtmpScannerLimits limits;
  limits.max_message_size = 1 << 20;
  RtmpChunkScanner scanner(limits);
  Outcome out;
  RtmpSink sink;
  sink.out = &out;
  std::vector<uint8_t> carry;
  for (size_t pos = 0; pos < data.size(); pos += piece) {
    auto part = data.subspan(pos, std::min(piece, data.size() - pos));
    carry.insert(carry.end(), part.begin(), part.end());
    auto consumed = scanner.feed(carry, sink);
    if (!consumed) {
      out.failed = true;
      return out;
    }
    carry.erase(carry.begin(), carry.begin() + static_cast<ptrdiff_t>(*consumed));
    if (carry.size() > RtmpChunkScanner::kMaxHeaderBytes) std::abort();
  }
  return out;
}

struct FlvSink : BodySink, FlvTagSink {
  bool on_body(std::span<const uint8_t> bytes) override {
    if (!scanner.feed(bytes, *this)) {
      out->failed = true;
      return false;
    }
    return true;
  }
  bool on_tag(const FlvTag& t) override {
    out->events.push_back({t.type, t.timestamp, t.data_size, {t.head.begin(), t.head.end()}});
    return true;
  }
  FlvTagScanner scanner;
  Outcome* out = nullptr;
};

Outcome run_flv(std::span<const uint8_t> data, size_t piece, BodyFraming framing) {
  BodyDecoder decoder(framing, 1000);
  Outcome out;
  FlvSink sink;
  sink.out = &out;
  for (size_t pos = 0; pos < data.size() && !out.failed; pos += piece) {
    auto part = data.subspan(pos, std::min(piece, data.size() - pos));
    auto consumed = decoder.feed(part, sink);
    if (!consumed) out.failed = true;
  }
  return out;
}

struct ResponseEvents : ResponseSink {
  bool on_response_head(const ResponseHead& head) override {
    out->events.push_back(
        {uint32_t(head.status), uint32_t(head.framing), head.connection_close, {}});
    return true;
  }
  bool on_response_body(std::span<const uint8_t> bytes) override {
    out->events.back().head.insert(out->events.back().head.end(), bytes.begin(), bytes.end());
    return true;
  }
  bool on_response_end() override {
    out->events.push_back({0, 0, 0, {}});
    return true;
  }
  Outcome* out = nullptr;
};

Outcome run_responses(std::span<const uint8_t> data, size_t piece) {
  ResponseReader reader;
  Outcome out;
  ResponseEvents sink;
  sink.out = &out;
  for (size_t pos = 0; pos < data.size(); pos += piece) {
    auto part = data.subspan(pos, std::min(piece, data.size() - pos));
    auto consumed = reader.feed(part, sink);
    if (!consumed) {
      out.failed = true;
      return out;
    }
    if (*consumed != part.size()) std::abort();
  }
  return out;
}

void run_playlist(std::span<const uint8_t> data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  auto playlist = parse_playlist(text);
  if (!playlist) return;
  auto check = [](std::string_view uri) {
    auto path = resolve_uri("/live/x/index.m3u8", uri, "127.0.0.1:8080");
    if (path && (path->empty() || path->front() != '/' ||
                 path->find_first_of(" \r\n") != std::string::npos)) {
      std::abort();
    }
  };
  for (const std::string& v : playlist->variants) check(v);
  for (const HlsSegment& segment : playlist->segments) {
    if (playlist->find(segment.msn) != &segment) std::abort();
    check(segment.uri);
    check(segment.map_uri);
    for (const HlsPart& part : segment.parts) check(part.uri);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t selector = data[0];
  const size_t piece = 1 + data[1] % 64;
  std::span<const uint8_t> input(data + 2, size - 2);
  if (selector % 8 == 6) {
    if (!(run_responses(input, input.size() + 1) == run_responses(input, piece))) std::abort();
  } else if (selector % 8 == 7) {
    run_playlist(input);
  } else if (selector % 4 == 0) {
    if (!(run_rtmp(input, input.size() + 1) == run_rtmp(input, piece))) std::abort();
    auto head = std::string_view(reinterpret_cast<const char*>(input.data()), input.size());
    if (size_t end = find_head_end(head)) (void)parse_response_head(head.substr(0, end));
  } else {
    BodyFraming framing = selector % 4 == 1   ? BodyFraming::kChunked
                          : selector % 4 == 2 ? BodyFraming::kContentLength
                                              : BodyFraming::kClose;
    if (!(run_flv(input, input.size() + 1, framing) == run_flv(input, piece, framing))) {
      std::abort();
    }
  }
  return 0;
}
