#include "protocols/rtmp/chunk_writer.h"

#include <algorithm>
#include <cstring>

#include "core/byte_writer.h"

namespace cascade::rtmp {
namespace {

constexpr uint32_t kTimestampExtended = 0xFFFFFF;

// RTMP spec 5.3.1.1: the basic header is 1, 2 or 3 bytes depending on csid.
size_t basic_header_size(uint32_t csid) { return csid < 64 ? 1 : csid < 320 ? 2 : 3; }

uint8_t* write_basic_header(uint8_t* p, uint8_t fmt, uint32_t csid) {
  if (csid < 64) {
    *p++ = static_cast<uint8_t>(fmt << 6 | csid);
  } else if (csid < 320) {
    *p++ = static_cast<uint8_t>(fmt << 6);
    *p++ = static_cast<uint8_t>(csid - 64);
  } else {
    *p++ = static_cast<uint8_t>(fmt << 6 | 1);
    *p++ = static_cast<uint8_t>((csid - 64) & 0xFF);
    *p++ = static_cast<uint8_t>((csid - 64) >> 8);
  }
  return p;
}

}  // namespace

size_t chunked_size(const MessageHeader& header, size_t payload_size, uint32_t chunk_size) {
  size_t chunks = payload_size == 0 ? 1 : (payload_size + chunk_size - 1) / chunk_size;
  size_t extended = header.timestamp >= kTimestampExtended ? 4 : 0;
  size_t basic = basic_header_size(header.csid);
  return payload_size + basic + 11 + extended + (chunks - 1) * (basic + extended);
}

size_t write_chunked(const MessageHeader& header, std::span<const uint8_t> payload,
                     uint32_t chunk_size, uint8_t* out) {
  const bool extended = header.timestamp >= kTimestampExtended;
  uint8_t* p = write_basic_header(out, 0, header.csid);
  // RTMP spec 5.3.1.2.1: type 0 message header.
  store_u24be(p, extended ? kTimestampExtended : header.timestamp);
  store_u24be(p + 3, static_cast<uint32_t>(payload.size()));
  p[6] = header.type_id;
  store_u32le(p + 7, header.stream_id);
  p += 11;
  size_t offset = 0;
  while (true) {
    // RTMP spec 5.3.1.3: the extended timestamp follows every chunk header,
    // type 3 included, when the timestamp does not fit 24 bits.
    if (extended) {
      store_u32be(p, header.timestamp);
      p += 4;
    }
    size_t n = std::min<size_t>(chunk_size, payload.size() - offset);
    if (n > 0) std::memcpy(p, payload.data() + offset, n);
    p += n;
    offset += n;
    if (offset >= payload.size()) break;
    p = write_basic_header(p, 3, header.csid);
  }
  return static_cast<size_t>(p - out);
}

void append_chunked(const MessageHeader& header, std::span<const uint8_t> payload,
                    uint32_t chunk_size, std::vector<uint8_t>& out) {
  size_t start = out.size();
  out.resize(start + chunked_size(header, payload.size(), chunk_size));
  write_chunked(header, payload, chunk_size, out.data() + start);
}

SharedBytes chunk_message(const MessageHeader& header, std::span<const uint8_t> payload,
                          uint32_t chunk_size) {
  MutableBytes buffer(chunked_size(header, payload.size(), chunk_size));
  buffer.resize(write_chunked(header, payload, chunk_size, buffer.data()));
  return std::move(buffer).freeze();
}

}  // namespace cascade::rtmp
