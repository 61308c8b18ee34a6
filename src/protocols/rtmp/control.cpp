#include "protocols/rtmp/control.h"

#include "core/byte_writer.h"
#include "protocols/rtmp/chunk_writer.h"

namespace cascade::rtmp {
namespace {

void append_control(std::vector<uint8_t>& out, uint32_t chunk_size, MessageType type,
                    std::span<const uint8_t> payload) {
  MessageHeader header{static_cast<uint8_t>(type), 0, 0, kCsidProtocolControl};
  append_chunked(header, payload, chunk_size, out);
}

void append_u32_control(std::vector<uint8_t>& out, uint32_t chunk_size, MessageType type,
                        uint32_t value) {
  uint8_t payload[4];
  store_u32be(payload, value);
  append_control(out, chunk_size, type, payload);
}

}  // namespace

void append_set_chunk_size(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t size) {
  append_u32_control(out, chunk_size, MessageType::kSetChunkSize, size & 0x7FFFFFFF);
}

void append_acknowledgement(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t sequence) {
  append_u32_control(out, chunk_size, MessageType::kAcknowledgement, sequence);
}

void append_window_ack_size(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t window) {
  append_u32_control(out, chunk_size, MessageType::kWindowAckSize, window);
}

void append_set_peer_bandwidth(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t window,
                               uint8_t limit_type) {
  uint8_t payload[5];
  store_u32be(payload, window);
  payload[4] = limit_type;
  append_control(out, chunk_size, MessageType::kSetPeerBandwidth, payload);
}

void append_user_control(std::vector<uint8_t>& out, uint32_t chunk_size, UserControlEvent event,
                         uint32_t value) {
  uint8_t payload[6];
  store_u16be(payload, static_cast<uint16_t>(event));
  store_u32be(payload + 2, value);
  append_control(out, chunk_size, MessageType::kUserControl, payload);
}

}  // namespace cascade::rtmp
