// ResponseReader: the responses on one persistent HTTP/1.1 connection, in
// order (RFC 9112 9.3): each response head, then its body through
// BodyDecoder, handed on in place. Sans-I/O; parses untrusted bytes
// (http_response_reader_test.cpp, loadgen_parsers_fuzz.cpp).
//
// A persistent connection needs self-delimited bodies: Content-Length or
// chunked. A body delimited by the connection's close is an error here, as
// is any malformed head or chunked framing (sticky).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"
#include "loadgen/http_body.h"

namespace cascade::loadgen {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // A final response's head (1xx interim responses are skipped). Returning
  // false stops the reader after it.
  virtual bool on_response_head(const ResponseHead& head) = 0;
  // Body bytes, in place; false stops.
  virtual bool on_response_body(std::span<const uint8_t> bytes) = 0;
  // The response is complete; false stops (bytes after it stay unconsumed).
  virtual bool on_response_end() = 0;
};

class ResponseReader {
 public:
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  // Consumes `bytes` up to where the sink stopped (all of them otherwise).
  Result<size_t> feed(std::span<const uint8_t> bytes, ResponseSink& sink);

  // Between responses: no byte of the next one has arrived.
  bool idle() const { return !in_body_ && head_.empty(); }
  // Complete responses since the last reset().
  uint64_t responses() const { return responses_; }
  // A new connection: forget any partial response.
  void reset();

 private:
  Error fail(Error error);

  std::string head_;  // the head while it arrives
  bool in_body_ = false;
  bool failed_ = false;
  Error error_;
  BodyDecoder body_;
  uint64_t responses_ = 0;
};

// Whether a response to a GET with this status carries no body at all
// (RFC 9110 15.3.5 204, 15.4.5 304; 1xx).
bool status_has_no_body(int status);

}  // namespace cascade::loadgen
