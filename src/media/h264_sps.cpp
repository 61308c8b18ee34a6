#include "media/h264_sps.h"

#include <vector>

#include "media/bit_reader.h"

namespace cascade::media {

namespace {

constexpr uint8_t kNalTypeSps = 7;
// Far above any H.264 level limit; keeps the size arithmetic meaningful.
constexpr uint64_t kMaxDimension = 65536;

// H.264 7.3.2.1.1: profiles whose SPS carries chroma_format_idc, bit depths
// and scaling matrices.
bool has_chroma_info(uint8_t profile_idc) {
  switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      return true;
    default:
      return false;
  }
}

// H.264 7.3.2.1.1.1: scaling_list(). Only parsed to skip it.
void skip_scaling_list(BitReader& r, int size) {
  int32_t last_scale = 8;
  int32_t next_scale = 8;
  for (int j = 0; j < size && r.ok(); ++j) {
    if (next_scale != 0) {
      const int64_t delta_scale = r.se();
      next_scale = static_cast<int32_t>(((last_scale + delta_scale) % 256 + 256) % 256);
    }
    last_scale = next_scale == 0 ? last_scale : next_scale;
  }
}

}  // namespace

Result<H264SpsInfo> parse_h264_sps(std::span<const uint8_t> nal) {
  if (nal.empty()) return make_error("empty H.264 SPS");
  // H.264 7.3.1: forbidden_zero_bit f(1), nal_ref_idc u(2), nal_unit_type u(5).
  const uint8_t nal_type = nal[0] & 0x1F;
  if (nal_type != kNalTypeSps) {
    return make_error("H.264 NAL unit type {} is not an SPS (7)", nal_type);
  }
  const std::vector<uint8_t> rbsp = nal_to_rbsp(nal.subspan(1));
  BitReader r(rbsp);

  H264SpsInfo info;
  info.profile_idc = static_cast<uint8_t>(r.u(8));
  r.u(8);  // constraint_set0..5_flag, reserved_zero_2bits
  info.level_idc = static_cast<uint8_t>(r.u(8));
  if (!r.ok()) return make_error("truncated H.264 SPS header");
  const uint32_t sps_id = r.ue();
  if (sps_id > 31) return make_error("H.264 SPS id {} out of range", sps_id);

  uint32_t chroma_format_idc = 1;  // 7.4.2.1.1: inferred as 1 (4:2:0) when absent
  bool separate_colour_plane = false;
  if (has_chroma_info(info.profile_idc)) {
    chroma_format_idc = r.ue();
    if (chroma_format_idc > 3) {
      return make_error("H.264 SPS chroma_format_idc {} out of range", chroma_format_idc);
    }
    if (chroma_format_idc == 3) separate_colour_plane = r.flag();
    const uint32_t bit_depth_luma_minus8 = r.ue();
    const uint32_t bit_depth_chroma_minus8 = r.ue();
    if (bit_depth_luma_minus8 > 6 || bit_depth_chroma_minus8 > 6) {
      return make_error("H.264 SPS bit depth out of range");
    }
    r.flag();        // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {  // seq_scaling_matrix_present_flag
      const int lists = chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists && r.ok(); ++i) {
        if (r.flag()) skip_scaling_list(r, i < 6 ? 16 : 64);  // seq_scaling_list_present_flag
      }
    }
  }

  const uint32_t log2_max_frame_num_minus4 = r.ue();
  if (log2_max_frame_num_minus4 > 12) {
    return make_error("H.264 SPS log2_max_frame_num_minus4 {} out of range",
                      log2_max_frame_num_minus4);
  }
  const uint32_t pic_order_cnt_type = r.ue();
  if (pic_order_cnt_type == 0) {
    if (r.ue() > 12) return make_error("H.264 SPS log2_max_pic_order_cnt_lsb out of range");
  } else if (pic_order_cnt_type == 1) {
    r.flag();                       // delta_pic_order_always_zero_flag
    r.se();                         // offset_for_non_ref_pic
    r.se();                         // offset_for_top_to_bottom_field
    const uint32_t cycle = r.ue();  // num_ref_frames_in_pic_order_cnt_cycle
    if (cycle > 255) return make_error("H.264 SPS POC cycle length {} out of range", cycle);
    for (uint32_t i = 0; i < cycle && r.ok(); ++i) r.se();  // offset_for_ref_frame[i]
  } else if (pic_order_cnt_type != 2) {
    return make_error("H.264 SPS pic_order_cnt_type {} out of range", pic_order_cnt_type);
  }
  r.ue();    // max_num_ref_frames
  r.flag();  // gaps_in_frame_num_value_allowed_flag
  const uint64_t width_in_mbs = uint64_t{r.ue()} + 1;
  const uint64_t height_in_map_units = uint64_t{r.ue()} + 1;
  const bool frame_mbs_only = r.flag();
  if (!frame_mbs_only) r.flag();  // mb_adaptive_frame_field_flag
  r.flag();                       // direct_8x8_inference_flag
  uint64_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  if (r.flag()) {  // frame_cropping_flag
    crop_left = r.ue();
    crop_right = r.ue();
    crop_top = r.ue();
    crop_bottom = r.ue();
  }
  if (!r.ok()) return make_error("truncated H.264 SPS");

  // 7.4.2.1.1: a field-coded sequence has two map units (fields) per frame MB row.
  const uint64_t frame_height_factor = frame_mbs_only ? 1 : 2;
  const uint64_t coded_width = width_in_mbs * 16;
  const uint64_t coded_height = height_in_map_units * 16 * frame_height_factor;
  if (coded_width > kMaxDimension || coded_height > kMaxDimension) {
    return make_error("H.264 SPS picture size out of range");
  }
  // 7.4.2.1.1 (frame_crop_*_offset) with Table 6-1 SubWidthC/SubHeightC.
  const uint32_t chroma_array_type = separate_colour_plane ? 0 : chroma_format_idc;
  uint64_t crop_unit_x = 1;
  uint64_t crop_unit_y = frame_height_factor;
  if (chroma_array_type != 0) {
    const uint64_t sub_width_c = chroma_format_idc == 3 ? 1 : 2;
    const uint64_t sub_height_c = chroma_format_idc == 1 ? 2 : 1;
    crop_unit_x = sub_width_c;
    crop_unit_y = sub_height_c * frame_height_factor;
  }
  const uint64_t crop_x = crop_unit_x * (crop_left + crop_right);
  const uint64_t crop_y = crop_unit_y * (crop_top + crop_bottom);
  if (crop_x >= coded_width || crop_y >= coded_height) {
    return make_error("H.264 SPS frame cropping exceeds the picture size");
  }
  info.width = static_cast<uint32_t>(coded_width - crop_x);
  info.height = static_cast<uint32_t>(coded_height - crop_y);
  return info;
}

}  // namespace cascade::media
