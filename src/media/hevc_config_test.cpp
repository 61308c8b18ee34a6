#include "media/hevc_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::BitWriter;
using testing::bytes;
using testing::Bytes;
using testing::concat;
using testing::rbsp_to_nal;
using testing::save_seed;

// Parameter sets from real libx265 (via FFmpeg) 'hvcC' boxes, Main@L3.1
// 1280x720 and Main@L2 426x240 (coded 432x240 with a conformance window).
const Bytes kVps720 =
    bytes({0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
           0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09});
const Bytes kSps720 =
    bytes({0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
           0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
           0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10});
const Bytes kVps426 =
    bytes({0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
           0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x98, 0x09});
const Bytes kSps426 =
    bytes({0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
           0x03, 0x00, 0x3c, 0xa0, 0x0d, 0x88, 0x0f, 0x1c, 0x9e, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
           0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10});
const Bytes kPps = bytes({0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40});

// ISO/IEC 14496-15 8.3.3.1.2: the 23-byte header as libx265 writes it
// (Main, compatibility 0x60000000, constraints 0x900000000000, 4-byte NAL
// lengths), with `level` and `num_arrays`.
Bytes hvcc_header(uint8_t level, uint8_t num_arrays, uint8_t length_byte = 0x0f) {
  return bytes({0x01,  0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00,        0x00,      0x00,
                level, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, length_byte, num_arrays});
}

// One NAL array holding one NAL unit.
Bytes nal_array(uint8_t type_byte, const Bytes& nal) {
  return concat({bytes({type_byte, 0x00, 0x01, static_cast<int>(nal.size() >> 8),
                        static_cast<int>(nal.size() & 0xff)}),
                 nal});
}

// libx265's SEI array, shortened here to one small user-data SEI.
const Bytes kSei = bytes({0x4e, 0x01, 0x05, 0x01, 0x80});

Bytes x265_720p() {
  return concat({hvcc_header(0x5d, 4), nal_array(0x20, kVps720), nal_array(0x21, kSps720),
                 nal_array(0x22, kPps), nal_array(0x27, kSei)});
}

Bytes x265_426x240() {
  return concat({hvcc_header(0x3c, 3), nal_array(0x20, kVps426), nal_array(0x21, kSps426),
                 nal_array(0x22, kPps)});
}

struct SpsFields {
  uint32_t max_sub_layers_minus1 = 0;
  uint32_t chroma_format_idc = 1;
  bool separate_colour_plane = false;
  uint32_t width = 1280, height = 720;
  bool window = false;
  uint32_t left = 0, right = 0, top = 0, bottom = 0;
};

// A synthetic SPS up to the fields the parser reads (ITU-T H.265 7.3.2.2.1).
Bytes make_sps(const SpsFields& f) {
  BitWriter w;
  w.u(4, 0);  // sps_video_parameter_set_id
  w.u(3, f.max_sub_layers_minus1);
  w.bit(true);  // sps_temporal_id_nesting_flag
  // profile_tier_level(): general part, 96 bits.
  w.u(8, 0x01);
  w.u(32, 0x60000000);
  w.u(48, 0x900000000000);
  w.u(8, 93);
  for (uint32_t i = 0; i < f.max_sub_layers_minus1; ++i) {
    w.bit(i == 0);  // sub_layer_profile_present_flag
    w.bit(true);    // sub_layer_level_present_flag
  }
  if (f.max_sub_layers_minus1 > 0) w.u(2 * (8 - f.max_sub_layers_minus1), 0);
  for (uint32_t i = 0; i < f.max_sub_layers_minus1; ++i) {
    if (i == 0) {
      w.u(32, 0xffffffff);  // 88 bits of sub-layer profile
      w.u(32, 0xffffffff);
      w.u(24, 0xffffff);
    }
    w.u(8, 0xff);  // sub_layer_level_idc
  }
  w.ue(0);  // sps_seq_parameter_set_id
  w.ue(f.chroma_format_idc);
  if (f.chroma_format_idc == 3) w.bit(f.separate_colour_plane);
  w.ue(f.width);
  w.ue(f.height);
  w.bit(f.window);
  if (f.window) {
    w.ue(f.left);
    w.ue(f.right);
    w.ue(f.top);
    w.ue(f.bottom);
  }
  Bytes rbsp = w.finish_rbsp();
  Bytes nal = rbsp_to_nal(0x42, rbsp);
  nal.insert(nal.begin() + 1, 0x01);  // second NAL header byte
  return nal;
}

struct ConfigCase {
  std::string name;
  Bytes record;
  size_t vps, sps, pps;
  uint32_t width, height;
  std::string codec;
};

TEST(HevcConfig, GoldenCases) {
  const std::vector<ConfigCase> cases = {
      {"x265_720p", x265_720p(), 1, 1, 1, 1280, 720, "hvc1.1.6.L93.90"},
      {"x265_426x240_conformance_window", x265_426x240(), 1, 1, 1, 426, 240, "hvc1.1.6.L60.90"},
      {"no_arrays", hvcc_header(0x5d, 0), 0, 0, 0, 0, 0, "hvc1.1.6.L93.90"},
      {"unparsable_sps", concat({hvcc_header(0x5d, 1), nal_array(0x21, bytes({0x42, 0x01, 0x01}))}),
       0, 1, 0, 0, 0, "hvc1.1.6.L93.90"},
  };
  for (const ConfigCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("hevc_config", c.name, c.record);
    auto config = parse_hevc_decoder_config(c.record);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->general_profile_space, 0);
    EXPECT_EQ(config->general_tier_flag, 0);
    EXPECT_EQ(config->general_profile_idc, 1);
    EXPECT_EQ(config->general_profile_compatibility_flags, 0x60000000u);
    EXPECT_EQ(config->general_constraint_indicator_flags, 0x900000000000u);
    EXPECT_EQ(config->nal_length_size, 4);
    EXPECT_EQ(config->vps.size(), c.vps);
    EXPECT_EQ(config->sps.size(), c.sps);
    EXPECT_EQ(config->pps.size(), c.pps);
    EXPECT_EQ(config->width, c.width);
    EXPECT_EQ(config->height, c.height);
    EXPECT_EQ(hevc_codec_string(*config), c.codec);
  }
}

TEST(HevcConfig, ParameterSetsAreCopiedVerbatim) {
  auto config = parse_hevc_decoder_config(x265_720p());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->vps[0], kVps720);
  EXPECT_EQ(config->sps[0], kSps720);
  EXPECT_EQ(config->pps[0], kPps);
  EXPECT_EQ(config->general_level_idc, 93);
}

TEST(HevcConfig, TwoByteNalLengths) {
  auto config = parse_hevc_decoder_config(hvcc_header(0x5d, 0, 0x0d));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->nal_length_size, 2);
}

struct ErrorCase {
  std::string name;
  Bytes data;
  std::string error;
};

TEST(HevcConfig, ErrorCases) {
  const Bytes header = hvcc_header(0x5d, 1);
  const std::vector<ErrorCase> cases = {
      {"empty", {}, "truncated HEVCDecoderConfigurationRecord (0 bytes"},
      {"short_header", Bytes(header.begin(), header.begin() + 22),
       "truncated HEVCDecoderConfigurationRecord (22 bytes"},
      {"version_0", concat({bytes({0x00}), Bytes(header.begin() + 1, header.end())}),
       "unsupported HEVCDecoderConfigurationRecord version 0"},
      {"nal_length_size_3", hvcc_header(0x5d, 0, 0x0e), "invalid HEVC NAL length size 3"},
      {"missing_array", header, "truncated HEVCDecoderConfigurationRecord NAL array"},
      {"truncated_nal", concat({header, bytes({0x21, 0x00, 0x01, 0x00, 0x10, 0x42})}),
       "truncated NAL unit"},
      {"empty_sps", concat({header, bytes({0x21, 0x00, 0x01, 0x00, 0x00})}), "empty SPS"},
      {"truncated_sei_array", concat({header, bytes({0x27, 0x00, 0x02, 0x00, 0x01, 0x4e})}),
       "truncated NAL unit"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("hevc_config", c.name, c.data);
    auto config = parse_hevc_decoder_config(c.data);
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find(c.error), std::string::npos) << config.error().message;
  }
}

struct SpsCase {
  std::string name;
  Bytes nal;
  uint32_t width, height;
};

TEST(HevcSps, GoldenCases) {
  std::vector<SpsCase> cases = {
      {"x265_720p", kSps720, 1280, 720},
      {"x265_426x240", kSps426, 426, 240},
  };
  {
    SpsFields f;
    f.max_sub_layers_minus1 = 2;  // exercises the sub-layer profile/level skip
    f.width = 1920;
    f.height = 1088;
    f.window = true;
    f.bottom = 4;  // 4:2:0: SubHeightC 2
    cases.push_back({"synthetic_sub_layers_1080p", make_sps(f), 1920, 1080});
  }
  {
    SpsFields f;
    f.max_sub_layers_minus1 = 6;
    cases.push_back({"synthetic_max_sub_layers", make_sps(f), 1280, 720});
  }
  {
    SpsFields f;
    f.chroma_format_idc = 2;  // 4:2:2: SubWidthC 2, SubHeightC 1
    f.window = true;
    f.right = 1;
    f.bottom = 1;
    cases.push_back({"synthetic_422_window", make_sps(f), 1278, 719});
  }
  {
    SpsFields f;
    f.chroma_format_idc = 3;
    f.separate_colour_plane = true;  // ChromaArrayType 0: 1x1 units
    f.window = true;
    f.left = 1;
    f.top = 3;
    cases.push_back({"synthetic_separate_planes_window", make_sps(f), 1279, 717});
  }
  {
    SpsFields f;
    f.chroma_format_idc = 0;
    f.window = true;
    f.right = 5;
    cases.push_back({"synthetic_monochrome_window", make_sps(f), 1275, 720});
  }
  for (const SpsCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("hevc_sps", c.name, c.nal);
    auto info = parse_hevc_sps(c.nal);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->width, c.width);
    EXPECT_EQ(info->height, c.height);
  }
}

TEST(HevcSps, ErrorCases) {
  std::vector<ErrorCase> cases = {
      {"empty", {}, "truncated H.265 SPS NAL header"},
      {"vps_not_sps", kVps720, "NAL unit type 32 is not an SPS"},
      {"truncated", Bytes(kSps720.begin(), kSps720.begin() + 12), "truncated H.265 SPS"},
  };
  {
    SpsFields f;
    f.max_sub_layers_minus1 = 7;
    cases.push_back({"max_sub_layers_7", make_sps(f), "sps_max_sub_layers_minus1 7"});
  }
  {
    SpsFields f;
    f.chroma_format_idc = 4;
    cases.push_back({"chroma_format_idc_4", make_sps(f), "chroma_format_idc 4"});
  }
  {
    SpsFields f;
    f.width = 0;
    cases.push_back({"zero_width", make_sps(f), "picture size 0x720 out of range"});
  }
  {
    SpsFields f;
    f.width = 100000;
    cases.push_back({"huge_width", make_sps(f), "out of range"});
  }
  {
    SpsFields f;
    f.window = true;
    f.left = 320;
    f.right = 320;  // 2 * 640 = 1280 luma columns
    cases.push_back({"window_exceeds_picture", make_sps(f), "conformance window exceeds"});
  }
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("hevc_sps", c.name, c.data);
    auto info = parse_hevc_sps(c.data);
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().message.find(c.error), std::string::npos) << info.error().message;
  }
}

TEST(HevcCodecString, IsoExamples) {
  HevcConfig main10;
  main10.general_profile_idc = 2;
  main10.general_profile_compatibility_flags = 0x20000000;  // flag 2
  main10.general_level_idc = 123;
  main10.general_constraint_indicator_flags = 0xB00000000000;
  EXPECT_EQ(hevc_codec_string(main10), "hvc1.2.4.L123.B0");

  HevcConfig high_tier;
  high_tier.general_profile_space = 1;
  high_tier.general_tier_flag = 1;
  high_tier.general_profile_idc = 4;
  high_tier.general_profile_compatibility_flags = 0x08000000;  // flag 4
  high_tier.general_level_idc = 153;
  high_tier.general_constraint_indicator_flags = 0x000000000001;
  EXPECT_EQ(hevc_codec_string(high_tier), "hvc1.A4.10.H153.00.00.00.00.00.01");

  HevcConfig no_constraints;
  no_constraints.general_profile_idc = 1;
  no_constraints.general_profile_compatibility_flags = 0x40000000;
  no_constraints.general_level_idc = 90;
  EXPECT_EQ(hevc_codec_string(no_constraints), "hvc1.1.2.L90");
}

}  // namespace
}  // namespace cascade::media
