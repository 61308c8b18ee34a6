// RtmpChunkScanner: a streaming scanner of the RTMP chunk stream (RTMP spec
// 5.3) for loadgen's virtual viewers. Unlike rtmp::ChunkReader it never
// reassembles a message: chunk payload is skipped in place and only the first
// kPrefixBytes of each message are kept, plus whole command messages (types
// 17 and 20) up to `command_capture` bytes, which a play session reads for
// _result / _error / onStatus. Media messages cost no copy beyond the prefix
// and no allocation.
//
// Contract (sans-I/O, not thread-safe, one per connection):
// - feed() consumes every payload byte it is given and every complete chunk
//   header; a header split across reads stays with the caller (at most
//   kMaxHeaderBytes), who feeds it again in front of the next bytes.
// - Each completed message is reported to the sink in completion order. The
//   RtmpMessage::head span is valid only during the call.
// - Set Chunk Size (5.4.1), Abort (5.4.2) and Window Acknowledgement Size
//   (5.4.4) are applied by the scanner and still reported.
// - RTMP 5.4.3: once window-size bytes have arrived since the last
//   acknowledgement, take_acknowledgement() returns the sequence number (bytes
//   received) that the caller must send back in an Acknowledgement.
// - An error means the peer broke the chunk stream structure; it is sticky.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"

namespace cascade::loadgen {

struct RtmpMessage {
  uint32_t csid = 0;
  uint8_t type_id = 0;
  uint32_t timestamp = 0;  // absolute, 32-bit (RTMP spec 5.3.1.2.1)
  uint32_t stream_id = 0;
  uint32_t length = 0;  // payload bytes
  // The first min(length, kPrefixBytes) payload bytes, or the whole payload of
  // a captured command message (complete() then says so).
  std::span<const uint8_t> head;
  bool complete() const { return head.size() == length; }
};

class RtmpMessageSink {
 public:
  virtual ~RtmpMessageSink() = default;
  // Returning false stops feed() right after this message (it returns the
  // bytes consumed so far; the caller decides whether to go on).
  virtual bool on_message(const RtmpMessage& message) = 0;
};

struct RtmpScannerLimits {
  uint32_t max_message_size = 16 * 1024 * 1024;
  // Command messages up to this size are captured whole; 0 disables capture.
  uint32_t command_capture = 4096;
};

class RtmpChunkScanner {
 public:
  static constexpr size_t kPrefixBytes = 16;
  // RTMP spec 5.3.1: basic header (3) + type 0 message header (11) +
  // extended timestamp (4).
  static constexpr size_t kMaxHeaderBytes = 18;
  static constexpr size_t kMaxChunkStreams = 12;

  explicit RtmpChunkScanner(RtmpScannerLimits limits = {});

  Result<size_t> feed(std::span<const uint8_t> bytes, RtmpMessageSink& sink);

  uint32_t chunk_size() const { return chunk_size_; }
  uint32_t window_ack_size() const { return window_ack_size_; }
  uint64_t bytes_received() const { return bytes_; }
  uint64_t messages() const { return messages_; }
  std::optional<uint32_t> take_acknowledgement();

 private:
  struct ChunkStream {
    uint32_t csid = 0;
    uint32_t timestamp = 0;
    uint32_t timestamp_field = 0;  // last type 0/1/2 header's timestamp (or delta)
    uint32_t length = 0;
    uint32_t stream_id = 0;
    uint32_t received = 0;  // payload bytes of the current message
    uint32_t extended_value = 0;
    uint8_t type_id = 0;
    bool extended = false;
    bool in_message = false;
    bool capture = false;  // the current message is captured whole
    std::array<uint8_t, kPrefixBytes> prefix{};
    std::vector<uint8_t> captured;  // capacity kept across messages
  };

  Error fail(Error error);
  ChunkStream* find(uint32_t csid);
  Status apply_control(const ChunkStream& cs, std::span<const uint8_t> head);

  RtmpScannerLimits limits_;
  uint32_t chunk_size_ = 128;  // RTMP spec 5.4.1: the default
  uint32_t window_ack_size_ = 0;
  uint64_t bytes_ = 0;
  uint64_t last_ack_ = 0;
  uint64_t messages_ = 0;
  size_t used_ = 0;
  std::array<ChunkStream, kMaxChunkStreams> streams_{};
  ChunkStream* current_ = nullptr;  // chunk whose payload is being skipped
  uint32_t current_remaining_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace cascade::loadgen
