// Fuzzes the FLV / Enhanced RTMP video tag header parser.
#include <cstddef>
#include <cstdint>

#include "media/flv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = cascade::flv::parse_video_tag({data, size});
  if (info.ok() && info->header_size > size) __builtin_trap();
  return 0;
}
