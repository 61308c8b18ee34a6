// Chunking of outgoing RTMP messages (RTMP spec 5.3).
//
// Every message is written with a type 0 header on its first chunk and type 3
// headers on the rest. That costs a few bytes per message over header
// compression but makes every message boundary a resync point: the same
// packaged bytes are valid for any viewer, whatever it received before
// (ARCHITECTURE.md, "RTMP play bytes are shareable").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/shared_bytes.h"

namespace cascade::rtmp {

struct MessageHeader {
  uint8_t type_id = 0;
  uint32_t timestamp = 0;
  uint32_t stream_id = 0;
  uint32_t csid = 3;  // 2..65599
};

// Bytes that write_chunked() produces for a payload of `payload_size`.
size_t chunked_size(const MessageHeader& header, size_t payload_size, uint32_t chunk_size);

// Writes the chunked message to `out`, which must hold chunked_size() bytes.
// Returns the bytes written.
size_t write_chunked(const MessageHeader& header, std::span<const uint8_t> payload,
                     uint32_t chunk_size, uint8_t* out);

void append_chunked(const MessageHeader& header, std::span<const uint8_t> payload,
                    uint32_t chunk_size, std::vector<uint8_t>& out);

SharedBytes chunk_message(const MessageHeader& header, std::span<const uint8_t> payload,
                          uint32_t chunk_size);

}  // namespace cascade::rtmp
