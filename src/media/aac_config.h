// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): the AAC sequence header
// carried by an FLV/RTMP AAC sequence-header packet and by the MP4 'esds'
// DecoderSpecificInfo.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"

namespace cascade::media {

struct AacConfig {
  uint8_t object_type = 0;               // audioObjectType (2 = AAC LC, 5 = SBR, 29 = PS, ...)
  uint8_t sampling_frequency_index = 0;  // 15 = explicit frequency
  uint32_t sample_rate = 0;              // Hz
  uint8_t channel_configuration = 0;     // 0 = defined in a program_config_element
};

// Parses the leading audioObjectType, sampling frequency and channel
// configuration; the rest (GASpecificConfig, SBR/PS extensions) is ignored.
// Errors: truncated input, object type 0, reserved frequency index, zero
// explicit frequency.
Result<AacConfig> parse_aac_audio_specific_config(std::span<const uint8_t> bytes);

// RFC 6381 3.3: "mp4a.40.<audioObjectType>", e.g. "mp4a.40.2".
std::string aac_codec_string(const AacConfig& config);

}  // namespace cascade::media
