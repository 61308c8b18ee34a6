// Fuzzes AMF0 decoding; decoded values must re-encode to a fixed point.
#include <cstddef>
#include <cstdint>

#include "media/amf0.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  auto values = amf0::decode_all({data, size});
  if (!values.ok()) return 0;
  for (const amf0::Value& v : *values) (void)v.to_string();
  // encode(decode(x)) is canonical: decoding and re-encoding it changes nothing.
  const std::vector<uint8_t> once = amf0::encode_all(*values);
  auto again = amf0::decode_all(once);
  if (!again.ok()) __builtin_trap();
  if (amf0::encode_all(*again) != once) __builtin_trap();
  return 0;
}
