#include "loadgen/rtmp_chunk_scanner.h"

#include <algorithm>
#include <cstring>

#include "core/byte_order.h"

namespace cascade::loadgen {
namespace {

constexpr uint32_t kTimestampExtended = 0xFFFFFF;
// RTMP spec 5.3.1.2: message header length per fmt.
constexpr size_t kMessageHeaderSize[4] = {11, 7, 3, 0};

constexpr uint8_t kSetChunkSize = 1;
constexpr uint8_t kAbort = 2;
constexpr uint8_t kWindowAckSize = 5;
constexpr uint8_t kCommandAmf3 = 17;
constexpr uint8_t kCommandAmf0 = 20;
}  // namespace

RtmpChunkScanner::RtmpChunkScanner(RtmpScannerLimits limits) : limits_(limits) {}

Error RtmpChunkScanner::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error;
}

RtmpChunkScanner::ChunkStream* RtmpChunkScanner::find(uint32_t csid) {
  for (size_t i = 0; i < used_; ++i) {
    if (streams_[i].csid == csid) return &streams_[i];
  }
  return nullptr;
}

std::optional<uint32_t> RtmpChunkScanner::take_acknowledgement() {
  if (window_ack_size_ == 0 || bytes_ - last_ack_ < window_ack_size_) return std::nullopt;
  last_ack_ = bytes_;
  // RTMP spec 5.4.3: the sequence number is the bytes received so far (it wraps).
  return static_cast<uint32_t>(bytes_);
}

Status RtmpChunkScanner::apply_control(const ChunkStream& cs, std::span<const uint8_t> head) {
  if (cs.type_id == kSetChunkSize) {
    if (head.size() < 4) return make_error("Set Chunk Size message of {} bytes", cs.length);
    // RTMP spec 5.4.1: 31 bits, the most significant bit must be zero, at least 1.
    uint32_t size = load_u32be(head.data());
    if (size == 0 || size > 0x7FFFFFFF) return make_error("invalid chunk size {}", size);
    chunk_size_ = size;
  } else if (cs.type_id == kAbort) {
    if (head.size() < 4) return make_error("Abort message of {} bytes", cs.length);
    if (ChunkStream* target = find(load_u32be(head.data()))) {
      target->in_message = false;  // RTMP spec 5.4.2: discard the partial message
      target->received = 0;
    }
  } else if (cs.type_id == kWindowAckSize) {
    if (head.size() < 4) return make_error("Window Acknowledgement Size of {} bytes", cs.length);
    window_ack_size_ = load_u32be(head.data());
  }
  return {};
}

Result<size_t> RtmpChunkScanner::feed(std::span<const uint8_t> bytes, RtmpMessageSink& sink) {
  if (failed_) return error_;
  const uint8_t* data = bytes.data();
  const size_t size = bytes.size();
  size_t pos = 0;
  while (true) {
    if (current_ != nullptr) {
      // Chunk payload: skipped in place, only the prefix (or a captured
      // command) is copied.
      ChunkStream& cs = *current_;
      size_t n = std::min<size_t>(size - pos, current_remaining_);
      if (cs.received < kPrefixBytes && n > 0) {
        size_t k = std::min<size_t>(n, kPrefixBytes - cs.received);
        std::memcpy(cs.prefix.data() + cs.received, data + pos, k);
      }
      if (cs.capture && n > 0) std::memcpy(cs.captured.data() + cs.received, data + pos, n);
      pos += n;
      bytes_ += n;
      cs.received += static_cast<uint32_t>(n);
      current_remaining_ -= static_cast<uint32_t>(n);
      if (current_remaining_ > 0) break;
      current_ = nullptr;
      if (cs.received < cs.length) continue;

      cs.in_message = false;
      RtmpMessage message{cs.csid, cs.type_id, cs.timestamp, cs.stream_id, cs.length, {}};
      message.head = cs.capture ? std::span<const uint8_t>(cs.captured.data(), cs.length)
                                : std::span<const uint8_t>(
                                      cs.prefix.data(), std::min<size_t>(cs.length, kPrefixBytes));
      ++messages_;
      if (cs.type_id == kSetChunkSize || cs.type_id == kAbort || cs.type_id == kWindowAckSize) {
        if (auto status = apply_control(cs, message.head); !status) return fail(status.error());
      }
      if (!sink.on_message(message)) break;
      continue;
    }

    // RTMP spec 5.3.1.1: basic header, 1 to 3 bytes.
    if (pos >= size) break;
    const uint8_t* p = data + pos;
    const size_t avail = size - pos;
    const uint8_t fmt = p[0] >> 6;
    uint32_t csid = p[0] & 0x3F;
    size_t h = 1;
    if (csid == 0) {
      if (avail < 2) break;
      csid = 64u + p[1];
      h = 2;
    } else if (csid == 1) {
      if (avail < 3) break;
      csid = 64u + p[1] + p[2] * 256u;
      h = 3;
    }
    if (avail < h + kMessageHeaderSize[fmt]) break;

    ChunkStream* cs = find(csid);
    if (cs == nullptr) {
      if (fmt != 0)
        return fail(make_error("chunk stream {} starts with a type {} header", csid, fmt));
      if (used_ == kMaxChunkStreams) {
        return fail(make_error("more than {} chunk streams", kMaxChunkStreams));
      }
      cs = &streams_[used_++];
      cs->csid = csid;
    }
    if (fmt != 3 && cs->in_message) {
      return fail(make_error(
          "type {} header on chunk stream {} before its message completed ({} of {} bytes)", fmt,
          csid, cs->received, cs->length));
    }

    // RTMP spec 5.3.1.2: message header.
    uint32_t timestamp_field = 0;
    uint32_t length = cs->length;
    uint8_t type_id = cs->type_id;
    uint32_t stream_id = cs->stream_id;
    if (fmt <= 2) timestamp_field = load_u24be(p + h);
    if (fmt <= 1) {
      length = load_u24be(p + h + 3);
      type_id = p[h + 6];
    }
    if (fmt == 0) stream_id = load_u32le(p + h + 7);
    h += kMessageHeaderSize[fmt];

    // RTMP spec 5.3.1.3: the extended timestamp follows type 0/1/2 headers
    // whose field is 0xFFFFFF, and type 3 headers on a chunk stream whose last
    // type 0/1/2 header had one. On continuation chunks some encoders omit it,
    // so there it is taken only when it repeats the message's value
    // (librtmp's and rtmp::ChunkReader's rule).
    const bool extended = fmt <= 2 ? timestamp_field == kTimestampExtended : cs->extended;
    uint32_t extended_value = 0;
    bool new_message = fmt != 3 || !cs->in_message;
    if (extended) {
      if (avail < h + 4) break;
      uint32_t peeked = load_u32be(p + h);
      if (new_message || peeked == cs->extended_value) {
        h += 4;
        extended_value = peeked;
      }
    }
    pos += h;
    bytes_ += h;

    if (fmt <= 2) {
      uint32_t value = extended ? extended_value : timestamp_field;
      cs->extended = extended;
      cs->extended_value = value;
      cs->timestamp = fmt == 0 ? value : cs->timestamp + value;
      cs->timestamp_field = value;
      cs->length = length;
      cs->type_id = type_id;
      cs->stream_id = stream_id;
    } else if (new_message) {
      // RTMP spec 5.3.1.2.4: a type 3 header starting a message repeats the
      // previous header's timestamp delta.
      if (extended) cs->extended_value = extended_value;
      cs->timestamp += extended ? extended_value : cs->timestamp_field;
    }

    if (new_message) {
      if (cs->length > limits_.max_message_size) {
        return fail(make_error("message of {} bytes on chunk stream {} exceeds {} bytes",
                               cs->length, csid, limits_.max_message_size));
      }
      cs->in_message = true;
      cs->received = 0;
      cs->capture = (cs->type_id == kCommandAmf0 || cs->type_id == kCommandAmf3) &&
                    cs->length <= limits_.command_capture;
      if (cs->capture && cs->captured.size() < cs->length) cs->captured.resize(cs->length);
    }
    current_ = cs;
    current_remaining_ = std::min(chunk_size_, cs->length - cs->received);
  }
  return pos;
}

}  // namespace cascade::loadgen
