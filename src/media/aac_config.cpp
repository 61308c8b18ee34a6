#include "media/aac_config.h"

#include <fmt/format.h>

#include "media/bit_reader.h"

namespace cascade::media {

namespace {

// ISO/IEC 14496-3 1.6.3.4, Table 1.18: samplingFrequencyIndex.
constexpr uint32_t kSampleRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                       22050, 16000, 12000, 11025, 8000,  7350};
constexpr uint8_t kEscapeObjectType = 31;
constexpr uint8_t kExplicitFrequency = 15;

}  // namespace

Result<AacConfig> parse_aac_audio_specific_config(std::span<const uint8_t> bytes) {
  BitReader r(bytes);
  AacConfig config;
  // ISO/IEC 14496-3 1.6.2.1: GetAudioObjectType(): 5 bits, escape 31 -> 32 + 6 bits.
  uint32_t object_type = r.u(5);
  if (object_type == kEscapeObjectType) object_type = 32 + r.u(6);
  config.object_type = static_cast<uint8_t>(object_type);
  config.sampling_frequency_index = static_cast<uint8_t>(r.u(4));
  if (config.sampling_frequency_index == kExplicitFrequency) {
    config.sample_rate = r.u(24);  // samplingFrequency
  } else if (config.sampling_frequency_index < 13) {
    config.sample_rate = kSampleRates[config.sampling_frequency_index];
  }
  config.channel_configuration = static_cast<uint8_t>(r.u(4));
  if (!r.ok()) {
    return make_error("truncated AudioSpecificConfig ({} bytes)", bytes.size());
  }
  if (config.object_type == 0) return make_error("AAC audioObjectType 0 (null) is invalid");
  if (config.sampling_frequency_index == 13 || config.sampling_frequency_index == 14) {
    return make_error("AAC samplingFrequencyIndex {} is reserved", config.sampling_frequency_index);
  }
  if (config.sample_rate == 0) return make_error("AAC explicit samplingFrequency is 0");
  return config;
}

std::string aac_codec_string(const AacConfig& config) {
  return fmt::format("mp4a.40.{}", config.object_type);
}

}  // namespace cascade::media
