// RTMP messages (RTMP spec 6.1) and the message type ids this server handles.
#pragma once

#include <cstdint>

#include "core/shared_bytes.h"

namespace cascade::rtmp {

// RTMP spec 5.4 (protocol control), 6.2 (user control), 7.1 (other types).
enum class MessageType : uint8_t {
  kSetChunkSize = 1,
  kAbort = 2,
  kAcknowledgement = 3,
  kUserControl = 4,
  kWindowAckSize = 5,
  kSetPeerBandwidth = 6,
  kAudio = 8,
  kVideo = 9,
  kDataAmf3 = 15,
  kSharedObjectAmf3 = 16,
  kCommandAmf3 = 17,
  kDataAmf0 = 18,
  kSharedObjectAmf0 = 19,
  kCommandAmf0 = 20,
  kAggregate = 22,
};

// RTMP spec 7.1.7: User Control Message event types.
enum class UserControlEvent : uint16_t {
  kStreamBegin = 0,
  kStreamEof = 1,
  kStreamDry = 2,
  kSetBufferLength = 3,
  kStreamIsRecorded = 4,
  kPingRequest = 6,
  kPingResponse = 7,
};

struct Message {
  uint8_t type_id = 0;
  uint32_t timestamp = 0;  // absolute, as reassembled (wraps at 2^32)
  uint32_t stream_id = 0;  // message stream id
  uint32_t csid = 0;       // chunk stream it arrived on (informational)
  SharedBytes payload;

  MessageType type() const { return static_cast<MessageType>(type_id); }
};

// Chunk stream ids this server uses when sending (RTMP spec 5.3.1.1: 2 is
// reserved for protocol control messages; the rest are our choice).
inline constexpr uint32_t kCsidProtocolControl = 2;
inline constexpr uint32_t kCsidCommand = 3;
inline constexpr uint32_t kCsidStreamStatus = 5;
inline constexpr uint32_t kCsidAudio = 6;
inline constexpr uint32_t kCsidVideo = 7;
inline constexpr uint32_t kCsidData = 5;

// Every play session gets this message stream id from createStream, which is
// what lets one packaged copy of the media serve every viewer
// (ARCHITECTURE.md: "the play message-stream id is fixed").
inline constexpr uint32_t kPlayStreamId = 1;

// RTMP spec 5.4.1: the chunk size in force until Set Chunk Size.
inline constexpr uint32_t kDefaultChunkSize = 128;

}  // namespace cascade::rtmp
