#include "media/hevc_config.h"

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "media/bit_reader.h"

namespace cascade::media {

namespace {

// ITU-T H.265 Table 7-1: NAL unit types.
constexpr uint8_t kNalVps = 32;
constexpr uint8_t kNalSps = 33;
constexpr uint8_t kNalPps = 34;
constexpr uint64_t kMaxDimension = 65536;

// ITU-T H.265 7.3.3: profile_tier_level(1, sps_max_sub_layers_minus1), skipped.
void skip_profile_tier_level(BitReader& r, uint32_t max_sub_layers_minus1) {
  // general_profile_space(2) .. general_level_idc(8): 96 bits.
  r.skip(96);
  bool profile_present[8] = {};
  bool level_present[8] = {};
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    profile_present[i] = r.flag();
    level_present[i] = r.flag();
  }
  if (max_sub_layers_minus1 > 0) {
    r.skip(2 * (8 - max_sub_layers_minus1));  // reserved_zero_2bits
  }
  for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    if (profile_present[i]) r.skip(88);  // sub_layer_profile_space .. flags
    if (level_present[i]) r.skip(8);     // sub_layer_level_idc
  }
}

}  // namespace

Result<HevcSpsInfo> parse_hevc_sps(std::span<const uint8_t> nal) {
  // ITU-T H.265 7.3.1.2: forbidden_zero_bit(1) nal_unit_type(6)
  // nuh_layer_id(6) nuh_temporal_id_plus1(3).
  if (nal.size() < 2) return make_error("truncated H.265 SPS NAL header");
  const uint8_t nal_type = (nal[0] >> 1) & 0x3F;
  if (nal_type != kNalSps) {
    return make_error("H.265 NAL unit type {} is not an SPS (33)", nal_type);
  }
  const std::vector<uint8_t> rbsp = nal_to_rbsp(nal.subspan(2));
  BitReader r(rbsp);
  // ITU-T H.265 7.3.2.2.1: seq_parameter_set_rbsp().
  r.u(4);  // sps_video_parameter_set_id
  const uint32_t max_sub_layers_minus1 = r.u(3);
  r.flag();  // sps_temporal_id_nesting_flag
  if (!r.ok()) return make_error("truncated H.265 SPS");
  if (max_sub_layers_minus1 > 6) {
    return make_error("H.265 SPS sps_max_sub_layers_minus1 {} out of range", max_sub_layers_minus1);
  }
  skip_profile_tier_level(r, max_sub_layers_minus1);
  const uint32_t sps_id = r.ue();
  const uint32_t chroma_format_idc = r.ue();
  if (!r.ok()) return make_error("truncated H.265 SPS");
  if (sps_id > 15) return make_error("H.265 SPS id {} out of range", sps_id);
  if (chroma_format_idc > 3) {
    return make_error("H.265 SPS chroma_format_idc {} out of range", chroma_format_idc);
  }
  bool separate_colour_plane = false;
  if (chroma_format_idc == 3) separate_colour_plane = r.flag();
  const uint64_t width = r.ue();   // pic_width_in_luma_samples
  const uint64_t height = r.ue();  // pic_height_in_luma_samples
  uint64_t left = 0, right = 0, top = 0, bottom = 0;
  if (r.flag()) {  // conformance_window_flag
    left = r.ue();
    right = r.ue();
    top = r.ue();
    bottom = r.ue();
  }
  if (!r.ok()) return make_error("truncated H.265 SPS");
  if (width == 0 || height == 0 || width > kMaxDimension || height > kMaxDimension) {
    return make_error("H.265 SPS picture size {}x{} out of range", width, height);
  }
  // ITU-T H.265 Table 6-1 (SubWidthC, SubHeightC); 7.4.3.2.1 conf_win_*_offset
  // are in chroma sample units. ChromaArrayType 0 (monochrome or separate
  // colour planes) uses 1x1.
  const uint32_t chroma_array_type = separate_colour_plane ? 0 : chroma_format_idc;
  const uint64_t sub_width_c = (chroma_array_type == 1 || chroma_array_type == 2) ? 2 : 1;
  const uint64_t sub_height_c = chroma_array_type == 1 ? 2 : 1;
  const uint64_t crop_x = sub_width_c * (left + right);
  const uint64_t crop_y = sub_height_c * (top + bottom);
  if (crop_x >= width || crop_y >= height) {
    return make_error("H.265 SPS conformance window exceeds the picture size");
  }
  return HevcSpsInfo{static_cast<uint32_t>(width - crop_x), static_cast<uint32_t>(height - crop_y)};
}

Result<HevcConfig> parse_hevc_decoder_config(std::span<const uint8_t> record) {
  // ISO/IEC 14496-15 8.3.3.1.2: HEVCDecoderConfigurationRecord.
  ByteReader r(record);
  const uint8_t version = r.u8();  // configurationVersion = 1
  HevcConfig config;
  const uint8_t profile = r.u8();
  config.general_profile_space = profile >> 6;
  config.general_tier_flag = (profile >> 5) & 0x01;
  config.general_profile_idc = profile & 0x1F;
  config.general_profile_compatibility_flags = r.u32be();
  const uint64_t constraint_high = r.u32be();
  config.general_constraint_indicator_flags = (constraint_high << 16) | r.u16be();
  config.general_level_idc = r.u8();
  r.u16be();  // reserved '1111' + min_spatial_segmentation_idc(12)
  r.u8();     // reserved '111111' + parallelismType(2)
  r.u8();     // reserved '111111' + chromaFormat(2)
  r.u8();     // reserved '11111' + bitDepthLumaMinus8(3)
  r.u8();     // reserved '11111' + bitDepthChromaMinus8(3)
  r.u16be();  // avgFrameRate
  // constantFrameRate(2) numTemporalLayers(3) temporalIdNested(1) lengthSizeMinusOne(2)
  const uint8_t length_size_minus_one = r.u8() & 0x03;
  const uint8_t num_arrays = r.u8();
  if (!r.ok()) {
    return make_error("truncated HEVCDecoderConfigurationRecord ({} bytes, need 23)",
                      record.size());
  }
  if (version != 1) {
    return make_error("unsupported HEVCDecoderConfigurationRecord version {}", version);
  }
  if (length_size_minus_one == 2) {
    return make_error("invalid HEVC NAL length size 3 (must be 1, 2 or 4)");
  }
  config.nal_length_size = static_cast<uint8_t>(length_size_minus_one + 1);

  for (uint8_t i = 0; i < num_arrays; ++i) {
    // array_completeness(1) reserved(1) NAL_unit_type(6), numNalus u16.
    const uint8_t nal_type = r.u8() & 0x3F;
    const uint16_t num_nalus = r.u16be();
    if (!r.ok()) return make_error("truncated HEVCDecoderConfigurationRecord NAL array");
    std::vector<std::vector<uint8_t>>* target = nullptr;
    const char* what = "";
    switch (nal_type) {
      case kNalVps:
        target = &config.vps;
        what = "VPS";
        break;
      case kNalSps:
        target = &config.sps;
        what = "SPS";
        break;
      case kNalPps:
        target = &config.pps;
        what = "PPS";
        break;
      default:
        break;  // SEI and others are not needed
    }
    for (uint16_t j = 0; j < num_nalus; ++j) {
      const uint16_t length = r.u16be();
      const std::span<const uint8_t> nal = r.bytes(length);
      if (!r.ok()) {
        return make_error("truncated NAL unit in HEVCDecoderConfigurationRecord array {}", i);
      }
      if (!target) continue;
      if (nal.empty()) return make_error("empty {} in HEVCDecoderConfigurationRecord", what);
      target->emplace_back(nal.begin(), nal.end());
    }
  }

  if (!config.sps.empty()) {
    if (auto sps = parse_hevc_sps(config.sps.front()); sps.ok()) {
      config.width = sps->width;
      config.height = sps->height;
    }
  }
  return config;
}

std::string hevc_codec_string(const HevcConfig& config) {
  // ISO/IEC 14496-15 E.3: profile space ('', A, B, C) + profile_idc; the
  // compatibility flags bit-reversed in hex; tier (L/H) + level; then the six
  // constraint bytes in hex, trailing zero bytes omitted.
  static constexpr const char* kProfileSpace[] = {"", "A", "B", "C"};
  uint32_t reversed = 0;
  for (int bit = 0; bit < 32; ++bit) {
    if (config.general_profile_compatibility_flags & (1u << bit)) reversed |= 1u << (31 - bit);
  }
  std::string out =
      fmt::format("hvc1.{}{}.{:X}.{}{}", kProfileSpace[config.general_profile_space & 3],
                  config.general_profile_idc, reversed, config.general_tier_flag ? 'H' : 'L',
                  config.general_level_idc);
  int last_nonzero = -1;
  uint8_t constraint[6];
  for (int i = 0; i < 6; ++i) {
    constraint[i] =
        static_cast<uint8_t>(config.general_constraint_indicator_flags >> (8 * (5 - i)));
    if (constraint[i] != 0) last_nonzero = i;
  }
  for (int i = 0; i <= last_nonzero; ++i) out += fmt::format(".{:02X}", constraint[i]);
  return out;
}

}  // namespace cascade::media
