// Fuzzes the HEVCDecoderConfigurationRecord parser.
#include <cstddef>
#include <cstdint>

#include "media/hevc_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = cascade::media::parse_hevc_decoder_config({data, size});
  if (config.ok()) (void)cascade::media::hevc_codec_string(*config);
  return 0;
}
