// Builders for protocol control (RTMP spec 5.4) and user control (6.2, 7.1.7)
// messages. Each appends one complete chunked message (csid 2, msid 0) to
// `out`, chunked at `chunk_size` (the sender's current chunk size).
#pragma once

#include <cstdint>
#include <vector>

#include "protocols/rtmp/message.h"

namespace cascade::rtmp {

void append_set_chunk_size(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t size);
void append_acknowledgement(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t sequence);
void append_window_ack_size(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t window);
// RTMP spec 5.4.5: limit type 0 hard, 1 soft, 2 dynamic.
void append_set_peer_bandwidth(std::vector<uint8_t>& out, uint32_t chunk_size, uint32_t window,
                               uint8_t limit_type);
// Stream Begin / Stream EOF / Stream Dry / Stream Is Recorded (4 bytes: msid),
// Ping Request / Response (4 bytes: timestamp).
void append_user_control(std::vector<uint8_t>& out, uint32_t chunk_size, UserControlEvent event,
                         uint32_t value);

}  // namespace cascade::rtmp
