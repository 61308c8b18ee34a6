// Fuzzes the AAC AudioSpecificConfig parser.
#include <cstddef>
#include <cstdint>

#include "media/aac_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = cascade::media::parse_aac_audio_specific_config({data, size});
  if (config.ok()) {
    if (config->sample_rate == 0 || config->object_type == 0) __builtin_trap();
    (void)cascade::media::aac_codec_string(*config);
  }
  return 0;
}
