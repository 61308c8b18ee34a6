#include "protocols/rtmp/chunk_reader.h"

#include <algorithm>

#include "core/byte_order.h"
#include "core/byte_reader.h"

namespace cascade::rtmp {
namespace {

constexpr uint32_t kTimestampExtended = 0xFFFFFF;
// RTMP spec 5.3.1.2: message header length per fmt.
constexpr size_t kMessageHeaderSize[4] = {11, 7, 3, 0};

}  // namespace

ChunkReader::ChunkReader(ChunkReaderLimits limits) : limits_(limits) {}

Status ChunkReader::start_message(ChunkStream& cs, uint32_t csid) {
  if (cs.length > limits_.max_message_size) {
    return make_error("message of {} bytes on chunk stream {} exceeds the limit of {} bytes",
                      cs.length, csid, limits_.max_message_size);
  }
  if (pending_bytes_ + cs.length > limits_.max_pending_bytes) {
    return make_error("too many bytes in partial messages ({} + {} > {})", pending_bytes_,
                      cs.length, limits_.max_pending_bytes);
  }
  pending_bytes_ += cs.length;
  cs.partial = MutableBytes(cs.length);
  cs.in_message = true;
  return {};
}

Status ChunkReader::apply_control(const Message& message) {
  ByteReader r(message.payload.span());
  if (message.type() == MessageType::kSetChunkSize) {
    uint32_t size = r.u32be();
    if (!r.ok()) return make_error("truncated Set Chunk Size message");
    // RTMP spec 5.4.1: the most significant bit MUST be zero; the size is at least 1.
    if (size == 0 || size > 0x7FFFFFFF) return make_error("invalid chunk size {}", size);
    if (size > limits_.max_message_size) {
      return make_error("chunk size {} exceeds the maximum message size {}", size,
                        limits_.max_message_size);
    }
    chunk_size_ = size;
  } else if (message.type() == MessageType::kAbort) {
    uint32_t csid = r.u32be();
    if (!r.ok()) return make_error("truncated Abort message");
    // RTMP spec 5.4.2: discard the partially received message on that chunk stream.
    auto it = streams_.find(csid);
    if (it != streams_.end() && it->second.in_message) {
      pending_bytes_ -= it->second.length;
      it->second.partial = MutableBytes();
      it->second.in_message = false;
    }
  }
  return {};
}

Result<size_t> ChunkReader::feed(std::span<const uint8_t> bytes, std::vector<Message>& out) {
  size_t pos = 0;
  while (true) {
    if (current_ != nullptr) {
      // Chunk payload, possibly continuing from an earlier feed.
      size_t n = std::min<size_t>(bytes.size() - pos, current_remaining_);
      current_->partial.append(bytes.subspan(pos, n));
      pos += n;
      current_remaining_ -= static_cast<uint32_t>(n);
      if (current_remaining_ > 0) break;
      ChunkStream& cs = *current_;
      current_ = nullptr;
      if (cs.partial.size() < cs.length) continue;
      Message message{cs.type_id, cs.timestamp, cs.stream_id, current_csid_,
                      std::move(cs.partial).freeze()};
      pending_bytes_ -= cs.length;
      cs.partial = MutableBytes();
      cs.in_message = false;
      if (message.type() == MessageType::kSetChunkSize || message.type() == MessageType::kAbort) {
        if (auto status = apply_control(message); !status) {
          bytes_consumed_ += pos;
          return status.error();
        }
      }
      out.push_back(std::move(message));
      continue;
    }

    // RTMP spec 5.3.1.1: basic header, 1 to 3 bytes.
    ByteReader r(bytes.subspan(pos));
    if (r.empty()) break;
    uint8_t b0 = r.u8();
    uint8_t fmt = b0 >> 6;
    uint32_t csid = b0 & 0x3F;
    if (csid == 0) {
      csid = 64u + r.u8();
    } else if (csid == 1) {
      uint32_t low = r.u8();
      uint32_t high = r.u8();
      csid = 64u + low + high * 256u;
    }
    if (!r.ok() || r.remaining() < kMessageHeaderSize[fmt]) break;

    auto it = streams_.find(csid);
    if (it == streams_.end()) {
      if (streams_.size() >= limits_.max_chunk_streams) {
        bytes_consumed_ += pos;
        return make_error("too many chunk streams (limit {})", limits_.max_chunk_streams);
      }
      if (fmt != 0) {
        bytes_consumed_ += pos;
        return make_error("chunk stream {} starts with a type {} header", csid, fmt);
      }
      it = streams_.emplace(csid, ChunkStream{}).first;
    }
    ChunkStream& cs = it->second;

    // RTMP spec 5.3.1.2: message header.
    uint32_t timestamp_field = 0;
    uint32_t length = cs.length;
    uint8_t type_id = cs.type_id;
    uint32_t stream_id = cs.stream_id;
    if (fmt <= 2) timestamp_field = r.u24be();
    if (fmt <= 1) {
      length = r.u24be();
      type_id = r.u8();
    }
    if (fmt == 0) stream_id = r.u32le();

    // RTMP spec 5.3.1.3: extended timestamp. On type 3 chunks it is present
    // when the last type 0/1/2 header on the chunk stream used it. Within a
    // message some encoders omit it on continuation chunks, so there it is
    // taken only when it repeats the value of the message's first chunk.
    bool extended = fmt <= 2 ? timestamp_field == kTimestampExtended : cs.extended_timestamp;
    uint32_t extended_value = 0;
    if (extended) {
      if (r.remaining() < 4) break;
      uint32_t peeked = load_u32be(r.rest().data());
      bool continuation = fmt == 3 && cs.in_message;
      if (!continuation || peeked == cs.extended_timestamp_value) {
        r.skip(4);
        extended_value = peeked;
      }
    }
    pos += r.position();

    bool new_message = fmt != 3 || !cs.in_message;
    if (fmt != 3 && cs.in_message) {
      // A new header before the previous message completed: the peer gave up
      // on it (as with Abort). Discard the partial message.
      pending_bytes_ -= cs.length;
      cs.partial = MutableBytes();
      cs.in_message = false;
    }
    if (fmt <= 2) {
      cs.extended_timestamp = extended;
      uint32_t value = extended ? extended_value : timestamp_field;
      cs.extended_timestamp_value = value;
      if (fmt == 0) {
        cs.timestamp = value;
      } else {
        cs.timestamp += value;
      }
      cs.timestamp_delta = value;
      cs.length = length;
      cs.type_id = type_id;
      cs.stream_id = stream_id;
      cs.has_header = true;
    } else if (new_message) {
      // RTMP spec 5.3.1.2.4: a type 3 chunk starting a message repeats the
      // previous timestamp delta.
      if (extended) cs.extended_timestamp_value = extended_value;
      cs.timestamp += extended ? extended_value : cs.timestamp_delta;
    }

    if (new_message) {
      if (auto status = start_message(cs, csid); !status) {
        bytes_consumed_ += pos;
        return status.error();
      }
    }
    current_ = &cs;
    current_csid_ = csid;
    current_remaining_ = std::min(chunk_size_, cs.length - static_cast<uint32_t>(cs.partial.size()));
  }
  bytes_consumed_ += pos;
  return pos;
}

}  // namespace cascade::rtmp
