#include "media/h264_sps.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::BitWriter;
using testing::bytes;
using testing::Bytes;
using testing::rbsp_to_nal;
using testing::save_seed;

// Fields of a synthetic SPS (ITU-T H.264 7.3.2.1.1) for the cases real
// encoders do not produce: POC type 1, explicit scaling lists, 4:2:2,
// monochrome, separate colour planes, out-of-range values.
struct SpsFields {
  uint8_t profile_idc = 100;
  uint8_t level_idc = 30;
  uint32_t chroma_format_idc = 1;
  bool separate_colour_plane = false;
  bool scaling_matrix = false;
  uint32_t poc_type = 0;
  uint32_t width_mbs = 20;
  uint32_t height_map_units = 15;
  bool frame_mbs_only = true;
  bool cropping = false;
  uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
};

bool high_profile(uint8_t profile_idc) {
  return profile_idc == 100 || profile_idc == 110 || profile_idc == 122 || profile_idc == 244;
}

Bytes make_sps(const SpsFields& f) {
  BitWriter w;
  w.u(8, f.profile_idc);
  w.u(8, 0);  // constraint flags
  w.u(8, f.level_idc);
  w.ue(0);  // seq_parameter_set_id
  if (high_profile(f.profile_idc)) {
    w.ue(f.chroma_format_idc);
    if (f.chroma_format_idc == 3) w.bit(f.separate_colour_plane);
    w.ue(0);       // bit_depth_luma_minus8
    w.ue(0);       // bit_depth_chroma_minus8
    w.bit(false);  // qpprime_y_zero_transform_bypass_flag
    w.bit(f.scaling_matrix);
    if (f.scaling_matrix) {
      const int lists = f.chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists; ++i) {
        const bool present = i == 0 || i == 6 || i == 11;
        w.bit(present);
        if (!present) continue;
        if (i == 0) {
          w.se(8);  // nextScale 16, then 15 zero deltas keep it at 16
          for (int j = 1; j < 16; ++j) w.se(0);
        } else {
          w.se(-8);  // nextScale 0: the rest of the list is not coded
        }
      }
    }
  }
  w.ue(0);  // log2_max_frame_num_minus4
  w.ue(f.poc_type);
  if (f.poc_type == 0) {
    w.ue(2);  // log2_max_pic_order_cnt_lsb_minus4
  } else if (f.poc_type == 1) {
    w.bit(false);  // delta_pic_order_always_zero_flag
    w.se(-1);      // offset_for_non_ref_pic
    w.se(2);       // offset_for_top_to_bottom_field
    w.ue(3);       // num_ref_frames_in_pic_order_cnt_cycle
    w.se(1);
    w.se(-2);
    w.se(3);
  }
  w.ue(1);       // max_num_ref_frames
  w.bit(false);  // gaps_in_frame_num_value_allowed_flag
  w.ue(f.width_mbs - 1);
  w.ue(f.height_map_units - 1);
  w.bit(f.frame_mbs_only);
  if (!f.frame_mbs_only) w.bit(true);  // mb_adaptive_frame_field_flag
  w.bit(true);                         // direct_8x8_inference_flag
  w.bit(f.cropping);
  if (f.cropping) {
    w.ue(f.crop_left);
    w.ue(f.crop_right);
    w.ue(f.crop_top);
    w.ue(f.crop_bottom);
  }
  w.bit(false);  // vui_parameters_present_flag
  return rbsp_to_nal(0x67, w.finish_rbsp());
}

struct Case {
  std::string name;
  Bytes nal;
  H264SpsInfo expected;
};

std::vector<Case> cases() {
  std::vector<Case> out = {
      // Real SPSes from libx264 (via FFmpeg), with emulation-prevention bytes.
      {"x264_high_1280x720",
       bytes({0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00,
              0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60}),
       {100, 31, 1280, 720}},
      // 1920x1088 coded, frame_crop_bottom_offset 4 (x2) -> 1080.
      {"x264_main_1920x1080_cropped",
       bytes({0x67, 0x4d, 0x40, 0x28, 0xec, 0xa0, 0x3c, 0x01, 0x13, 0xf2, 0xe0, 0x22, 0x00,
              0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x78, 0x1e, 0x30, 0x63, 0x2c}),
       {77, 40, 1920, 1080}},
      {"x264_baseline_320x240",
       bytes({0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00,
              0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0xa4, 0x80}),
       {66, 13, 320, 240}},
      // High 4:4:4 Predictive: chroma_format_idc 3.
      {"x264_high444_640x360",
       bytes({0x67, 0xf4, 0x00, 0x1e, 0x91, 0x9b, 0x28, 0x14, 0x05, 0xff, 0x13, 0x80, 0x88, 0x00,
              0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x01, 0xe0, 0x78, 0xb1, 0x6c, 0xb0}),
       {244, 30, 640, 360}},
      // Interlaced: frame_mbs_only_flag 0, map units are field MB rows.
      {"x264_high_1080i",
       bytes({0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x04, 0x4f, 0xde, 0x02, 0x20,
              0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x07, 0x83, 0xe2, 0xc5, 0xb2, 0xc0}),
       {100, 40, 1920, 1080}},
      {"x264_high_352x288",
       bytes({0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x60, 0x96, 0xc0, 0x44, 0x00, 0x00,
              0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x50, 0xa6, 0x58}),
       {100, 13, 352, 288}},
  };
  {
    SpsFields f;
    f.profile_idc = 66;
    f.poc_type = 1;
    out.push_back({"synthetic_baseline_poc_type1", make_sps(f), {66, 30, 320, 240}});
  }
  {
    SpsFields f;
    f.scaling_matrix = true;
    f.width_mbs = 120;
    f.height_map_units = 68;
    f.cropping = true;
    f.crop_bottom = 4;
    out.push_back({"synthetic_high_scaling_lists_1080p", make_sps(f), {100, 30, 1920, 1080}});
  }
  {
    SpsFields f;
    f.profile_idc = 244;
    f.chroma_format_idc = 3;
    f.scaling_matrix = true;
    f.cropping = true;
    f.crop_right = 3;  // CropUnitX 1 for 4:4:4
    out.push_back({"synthetic_444_scaling_lists_crop", make_sps(f), {244, 30, 317, 240}});
  }
  {
    SpsFields f;
    f.profile_idc = 122;
    f.chroma_format_idc = 2;
    f.poc_type = 2;
    f.frame_mbs_only = false;
    f.height_map_units = 8;  // 8 * 16 * 2 = 256 lines
    f.cropping = true;
    f.crop_bottom = 8;  // CropUnitY = SubHeightC(1) * 2 = 2
    f.crop_left = 2;    // CropUnitX = SubWidthC(2)
    out.push_back({"synthetic_422_interlaced_crop", make_sps(f), {122, 30, 316, 240}});
  }
  {
    SpsFields f;
    f.chroma_format_idc = 0;  // monochrome: ChromaArrayType 0, CropUnitX 1
    f.cropping = true;
    f.crop_right = 1;
    f.crop_top = 1;
    out.push_back({"synthetic_monochrome_crop", make_sps(f), {100, 30, 319, 239}});
  }
  {
    SpsFields f;
    f.profile_idc = 244;
    f.chroma_format_idc = 3;
    f.separate_colour_plane = true;  // ChromaArrayType 0
    f.cropping = true;
    f.crop_left = 1;
    f.crop_right = 1;
    out.push_back({"synthetic_separate_colour_planes", make_sps(f), {244, 30, 318, 240}});
  }
  return out;
}

TEST(H264Sps, GoldenCases) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    save_seed("h264_sps", c.name, c.nal);
    auto info = parse_h264_sps(c.nal);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->profile_idc, c.expected.profile_idc);
    EXPECT_EQ(info->level_idc, c.expected.level_idc);
    EXPECT_EQ(info->width, c.expected.width);
    EXPECT_EQ(info->height, c.expected.height);
  }
}

struct ErrorCase {
  std::string name;
  Bytes nal;
  std::string error;
};

std::vector<ErrorCase> error_cases() {
  std::vector<ErrorCase> out = {
      {"empty", {}, "empty H.264 SPS"},
      {"pps_not_sps", bytes({0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}), "NAL unit type 8"},
      {"truncated_header", bytes({0x67, 0x64, 0x00}), "truncated H.264 SPS header"},
      {"truncated_body", bytes({0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9}), "truncated H.264 SPS"},
      // 40 zero bits: an Exp-Golomb code longer than 32 bits.
      {"exp_golomb_overflow", bytes({0x67, 0x42, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80}),
       "truncated H.264 SPS"},
  };
  {
    SpsFields f;
    f.chroma_format_idc = 4;
    out.push_back({"chroma_format_idc_4", make_sps(f), "chroma_format_idc 4 out of range"});
  }
  {
    SpsFields f;
    f.poc_type = 3;
    out.push_back({"poc_type_3", make_sps(f), "pic_order_cnt_type 3 out of range"});
  }
  {
    SpsFields f;
    f.cropping = true;
    f.crop_bottom = 120;  // 240 lines of crop on a 240-line picture
    out.push_back({"crop_exceeds_picture", make_sps(f), "cropping exceeds"});
  }
  {
    SpsFields f;
    f.width_mbs = 5000;
    out.push_back({"width_too_large", make_sps(f), "picture size out of range"});
  }
  return out;
}

TEST(H264Sps, ErrorCases) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.name);
    save_seed("h264_sps", c.name, c.nal);
    auto info = parse_h264_sps(c.nal);
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().message.find(c.error), std::string::npos) << info.error().message;
  }
}

TEST(H264Sps, EveryTruncationFailsCleanly) {
  for (const Case& c : cases()) {
    for (size_t n = 0; n < c.nal.size(); ++n) {
      auto info = parse_h264_sps(std::span(c.nal).first(n));
      if (info.ok()) {
        // Only the trailing VUI/stop bits may be cut; the size must not change.
        EXPECT_EQ(info->width, c.expected.width) << c.name << " cut at " << n;
        EXPECT_EQ(info->height, c.expected.height) << c.name << " cut at " << n;
      }
    }
  }
}

}  // namespace
}  // namespace cascade::media
