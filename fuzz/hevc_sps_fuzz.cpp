// Fuzzes the H.265 SPS parser.
#include <cstddef>
#include <cstdint>

#include "media/hevc_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = cascade::media::parse_hevc_sps({data, size});
  if (info.ok() && (info->width == 0 || info->height == 0)) __builtin_trap();
  return 0;
}
