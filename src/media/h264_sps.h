// H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1): just enough of it to
// learn the profile, level and the cropped picture size.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.h"

namespace cascade::media {

struct H264SpsInfo {
  uint8_t profile_idc = 0;
  uint8_t level_idc = 0;
  uint32_t width = 0;   // luma samples, after frame cropping
  uint32_t height = 0;  // luma samples, after frame cropping (frames, not fields)
};

// Parses an SPS NAL unit (starting with its 1-byte NAL header, nal_unit_type
// 7, emulation-prevention bytes still in place). Errors: wrong NAL type,
// truncated or out-of-range fields.
Result<H264SpsInfo> parse_h264_sps(std::span<const uint8_t> nal);

}  // namespace cascade::media
