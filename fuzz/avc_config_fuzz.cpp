// Fuzzes the AVCDecoderConfigurationRecord parser.
#include <cstddef>
#include <cstdint>

#include "media/avc_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = cascade::media::parse_avc_decoder_config({data, size});
  if (config.ok()) (void)cascade::media::avc_codec_string(*config);
  return 0;
}
