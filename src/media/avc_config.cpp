#include "media/avc_config.h"

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "media/h264_sps.h"

namespace cascade::media {

namespace {

// Reads `count` u16-length-prefixed NAL units into `out`.
Status read_nal_units(ByteReader& r, size_t count, const char* what,
                      std::vector<std::vector<uint8_t>>& out) {
  for (size_t i = 0; i < count; ++i) {
    const uint16_t length = r.u16be();
    const std::span<const uint8_t> nal = r.bytes(length);
    if (!r.ok()) return make_error("truncated {} in AVCDecoderConfigurationRecord", what);
    if (nal.empty()) return make_error("empty {} in AVCDecoderConfigurationRecord", what);
    out.emplace_back(nal.begin(), nal.end());
  }
  return ok_status();
}

}  // namespace

Result<AvcConfig> parse_avc_decoder_config(std::span<const uint8_t> record) {
  // ISO/IEC 14496-15 5.3.3.1.1: AVCDecoderConfigurationRecord.
  ByteReader r(record);
  const uint8_t version = r.u8();  // configurationVersion = 1
  AvcConfig config;
  config.profile = r.u8();
  config.profile_compatibility = r.u8();
  config.level = r.u8();
  const uint8_t length_size_minus_one = r.u8() & 0x03;  // bit(6) reserved '111111'
  const uint8_t num_sps = r.u8() & 0x1F;                // bit(3) reserved '111'
  if (!r.ok())
    return make_error("truncated AVCDecoderConfigurationRecord ({} bytes)", record.size());
  if (version != 1) {
    return make_error("unsupported AVCDecoderConfigurationRecord version {}", version);
  }
  // 5.3.3.1.2: lengthSizeMinusOne is 0, 1 or 3 (NAL length of 1, 2 or 4 bytes).
  if (length_size_minus_one == 2) {
    return make_error("invalid AVC NAL length size 3 (must be 1, 2 or 4)");
  }
  config.nal_length_size = static_cast<uint8_t>(length_size_minus_one + 1);
  if (auto s = read_nal_units(r, num_sps, "SPS", config.sps); !s.ok()) return s.error();
  const uint8_t num_pps = r.u8();
  if (!r.ok()) return make_error("truncated AVCDecoderConfigurationRecord (missing PPS count)");
  if (auto s = read_nal_units(r, num_pps, "PPS", config.pps); !s.ok()) return s.error();

  if (!config.sps.empty()) {
    if (auto sps = parse_h264_sps(config.sps.front()); sps.ok()) {
      config.width = sps->width;
      config.height = sps->height;
    }
  }
  return config;
}

std::string avc_codec_string(const AvcConfig& config) {
  return fmt::format("avc1.{:02x}{:02x}{:02x}", config.profile, config.profile_compatibility,
                     config.level);
}

}  // namespace cascade::media
