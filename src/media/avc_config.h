// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1): the H.264
// sequence header carried by an FLV/RTMP AVC sequence-start packet and by
// the MP4 'avcC' box.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace cascade::media {

struct AvcConfig {
  uint8_t profile = 0;  // AVCProfileIndication
  uint8_t profile_compatibility = 0;
  uint8_t level = 0;                           // AVCLevelIndication
  uint8_t nal_length_size = 4;                 // lengthSizeMinusOne + 1: 1, 2 or 4
  std::vector<std::vector<uint8_t>> sps, pps;  // NAL units, with NAL header
  uint32_t width = 0, height = 0;              // from the first SPS; 0 if it does not parse
};

// Parses the record. Trailing fields (the High-profile chroma/bit-depth
// extension) are not needed and ignored. An SPS whose picture size cannot be
// parsed leaves width/height at 0 rather than failing the record.
Result<AvcConfig> parse_avc_decoder_config(std::span<const uint8_t> record);

// RFC 6381 3.3: "avc1.PPCCLL" (profile, compatibility, level in lowercase
// hex), e.g. "avc1.64001f".
std::string avc_codec_string(const AvcConfig& config);

}  // namespace cascade::media
