#include "protocols/rtmp/command.h"

#include "protocols/rtmp/chunk_writer.h"

namespace cascade::rtmp {

void append_amf0_message(std::vector<uint8_t>& out, uint32_t chunk_size, MessageType type,
                         uint32_t csid, uint32_t stream_id,
                         std::initializer_list<amf0::Value> values) {
  std::vector<uint8_t> payload = amf0::encode_all(values);
  MessageHeader header{static_cast<uint8_t>(type), 0, stream_id, csid};
  append_chunked(header, payload, chunk_size, out);
}

amf0::Value status_info(std::string_view level, std::string_view code,
                        std::string_view description) {
  amf0::Value info = amf0::Value::object();
  info.set("level", amf0::Value::string(std::string(level)));
  info.set("code", amf0::Value::string(std::string(code)));
  info.set("description", amf0::Value::string(std::string(description)));
  return info;
}

NameAndQuery split_query(std::string_view text) {
  auto q = text.find('?');
  if (q == std::string_view::npos) return {std::string(text), {}};
  return {std::string(text.substr(0, q)), std::string(text.substr(q + 1))};
}

}  // namespace cascade::rtmp
