// Fuzzes the H.264 SPS parser.
#include <cstddef>
#include <cstdint>

#include "media/h264_sps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = cascade::media::parse_h264_sps({data, size});
  if (info.ok() && (info->width == 0 || info->height == 0)) __builtin_trap();
  return 0;
}
