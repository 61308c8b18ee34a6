// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1): the H.265
// sequence header carried by an Enhanced RTMP 'hvc1' SequenceStart packet
// and by the MP4 'hvcC' box.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace cascade::media {

struct HevcConfig {
  uint8_t general_profile_space = 0;
  uint8_t general_tier_flag = 0;
  uint8_t general_profile_idc = 0;
  uint32_t general_profile_compatibility_flags = 0;
  uint64_t general_constraint_indicator_flags = 0;  // 48 bits
  uint8_t general_level_idc = 0;
  uint8_t nal_length_size = 4;                      // lengthSizeMinusOne + 1: 1, 2 or 4
  std::vector<std::vector<uint8_t>> vps, sps, pps;  // NAL units, with NAL header
  uint32_t width = 0, height = 0;                   // from the first SPS; 0 if it does not parse
};

// Parses the record. NAL arrays other than VPS/SPS/PPS (SEI, ...) are skipped.
// An SPS whose picture size cannot be parsed leaves width/height at 0.
Result<HevcConfig> parse_hevc_decoder_config(std::span<const uint8_t> record);

struct HevcSpsInfo {
  uint32_t width = 0;   // pic_width_in_luma_samples minus the conformance window
  uint32_t height = 0;  // pic_height_in_luma_samples minus the conformance window
};

// Parses the start of an SPS NAL unit (ITU-T H.265 7.3.2.2.1, with its 2-byte
// NAL header, nal_unit_type 33) up to the conformance window.
Result<HevcSpsInfo> parse_hevc_sps(std::span<const uint8_t> nal);

// ISO/IEC 14496-15 E.3 / RFC 6381: e.g. "hvc1.1.6.L93.B0".
std::string hevc_codec_string(const HevcConfig& config);

}  // namespace cascade::media
