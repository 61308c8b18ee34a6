// AMF0 command messages (RTMP spec 7.2): encoding replies and reading the
// command name / transaction id of a received one.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "media/amf0.h"
#include "protocols/rtmp/message.h"

namespace cascade::rtmp {

// Appends an AMF0 command or data message (type 20 or 18) made of `values`.
void append_amf0_message(std::vector<uint8_t>& out, uint32_t chunk_size, MessageType type,
                         uint32_t csid, uint32_t stream_id, std::initializer_list<amf0::Value> values);

// The info object of an onStatus / _result / _error (RTMP spec 7.2.1.1, 7.2.2).
amf0::Value status_info(std::string_view level, std::string_view code, std::string_view description);

// "name?query" -> {name, query}.
struct NameAndQuery {
  std::string name;
  std::string query;
};
NameAndQuery split_query(std::string_view text);

}  // namespace cascade::rtmp
