// The HTTP/1.1 response side of an HTTP-FLV viewer (RFC 9112): the response
// head, and a streaming decoder of the message body that hands body bytes on
// in place (chunked transfer coding, Content-Length, or close-delimited).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"

namespace cascade::loadgen {

// RFC 9112 6.3: how the body's length is determined.
enum class BodyFraming : uint8_t { kChunked, kContentLength, kClose };

struct ResponseHead {
  int version_minor = 1;  // HTTP/1.x
  int status = 0;
  BodyFraming framing = BodyFraming::kClose;
  uint64_t content_length = 0;  // kContentLength only
  // RFC 9112 9.3: the server closes the connection after this response
  // (Connection: close, or HTTP/1.0 without keep-alive).
  bool connection_close = false;
};

// The size of the head including its final CRLFCRLF, or 0 while `bytes` does
// not hold a complete head yet.
size_t find_head_end(std::string_view bytes);

// Parses a complete head (status line and header fields, as found by
// find_head_end). Errors: a malformed status line or field line.
Result<ResponseHead> parse_response_head(std::string_view head);

class BodySink {
 public:
  virtual ~BodySink() = default;
  // Body bytes, in place. Returning false stops decoding after them.
  virtual bool on_body(std::span<const uint8_t> bytes) = 0;
};

// Streaming body decoder. feed() consumes every byte it is given, except
// after the sink asked to stop, or (kStop) the bytes after the body's end,
// which belong to the next message on the connection. RFC 9112 7.1:
// chunked-body = *chunk last-chunk trailer-section CRLF; chunk extensions
// and trailer fields are skipped. Errors (sticky) mean malformed framing or
// (kError) data after the body.
class BodyDecoder {
 public:
  enum class AfterEnd : uint8_t { kError, kStop };

  explicit BodyDecoder(BodyFraming framing = BodyFraming::kClose, uint64_t content_length = 0,
                       AfterEnd after_end = AfterEnd::kError);

  Result<size_t> feed(std::span<const uint8_t> bytes, BodySink& sink);

  // The body ended by its framing (the last chunk, or Content-Length bytes);
  // a close-delimited body ends only with the connection.
  bool done() const { return state_ == State::kDone; }
  uint64_t body_bytes() const { return body_bytes_; }
  uint64_t chunks() const { return chunks_; }

 private:
  enum class State : uint8_t {
    kSize,       // chunk-size hex digits
    kExtension,  // BWS / chunk-ext up to CR
    kSizeLf,     // LF after the size line
    kData,       // chunk-data, or a Content-Length / close-delimited body
    kDataCr,     // CRLF after chunk-data
    kDataLf,
    kTrailerLine,  // a trailer field line (or the final empty line)
    kTrailerLf,
    kDone,
  };

  Error fail(Error error);

  BodyFraming framing_;
  AfterEnd after_end_;
  State state_;
  bool failed_ = false;
  Error error_;
  uint64_t remaining_ = 0;  // chunk-data or Content-Length bytes left
  int size_digits_ = 0;
  bool trailer_line_empty_ = true;
  uint64_t body_bytes_ = 0;
  uint64_t chunks_ = 0;
};

}  // namespace cascade::loadgen
