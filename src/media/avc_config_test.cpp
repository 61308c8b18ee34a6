#include "media/avc_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::bytes;
using testing::Bytes;
using testing::concat;
using testing::save_seed;

// Real records written by FFmpeg/libx264 (FLV sequence header / MP4 avcC).
// 1280x720 High@3.1, with the High-profile chroma/bit-depth trailer.
const Bytes kHigh720p = bytes({
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
});
// 1920x1080 Main@4.0 (coded 1088, cropped).
const Bytes kMain1080p = bytes({
    0x01, 0x4d, 0x40, 0x28, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x4d, 0x40, 0x28, 0xec, 0xa0,
    0x3c, 0x01, 0x13, 0xf2, 0xe0, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
    0x00, 0x78, 0x1e, 0x30, 0x63, 0x2c, 0x01, 0x00, 0x05, 0x68, 0xeb, 0xe3, 0xcb, 0x20,
});
// 320x240 Constrained Baseline@1.3.
const Bytes kBaseline240p = bytes({
    0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01,
    0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0,
    0xf1, 0x42, 0xa4, 0x80, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20,
});
// 640x360 High 4:4:4 Predictive@3.0.
const Bytes kHigh444 = bytes({
    0x01, 0xf4, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1b, 0x67, 0xf4, 0x00, 0x1e, 0x91,
    0x9b, 0x28, 0x14, 0x05, 0xff, 0x13, 0x80, 0x88, 0x00, 0x00, 0x03, 0x00, 0x08,
    0x00, 0x00, 0x03, 0x01, 0xe0, 0x78, 0xb1, 0x6c, 0xb0, 0x01, 0x00, 0x08, 0x68,
    0xeb, 0xe3, 0xc4, 0x4c, 0x00, 0x04, 0x40, 0xff, 0xf8, 0xf8, 0x00,
});

struct Case {
  std::string name;
  Bytes record;
  uint8_t profile, compatibility, level, nal_length_size;
  size_t sps_count, pps_count;
  uint32_t width, height;
  std::string codec;
};

TEST(AvcConfig, GoldenCases) {
  const std::vector<Case> cases = {
      {"x264_high_720p", kHigh720p, 100, 0x00, 31, 4, 1, 1, 1280, 720, "avc1.64001f"},
      {"x264_main_1080p", kMain1080p, 77, 0x40, 40, 4, 1, 1, 1920, 1080, "avc1.4d4028"},
      {"x264_baseline_240p", kBaseline240p, 66, 0xc0, 13, 4, 1, 1, 320, 240, "avc1.42c00d"},
      {"x264_high444", kHigh444, 244, 0x00, 30, 4, 1, 1, 640, 360, "avc1.f4001e"},
      // lengthSizeMinusOne 1 (2-byte lengths); two SPS, zero PPS.
      {"two_byte_lengths_two_sps",
       concat({bytes({0x01, 0x42, 0xc0, 0x0d, 0xfd, 0xe2}), bytes({0x00, 0x18}),
               std::span(kBaseline240p).subspan(8, 24), bytes({0x00, 0x02, 0x67, 0x42}),
               bytes({0x00})}),
       66, 0xc0, 13, 2, 2, 0, 320, 240, "avc1.42c00d"},
      // An SPS that does not parse leaves the size at 0 (the record is fine).
      {"unparsable_sps", bytes({0x01, 0x64, 0x00, 0x1f, 0xfc, 0xe1, 0x00, 0x02, 0x67, 0x64, 0x00}),
       100, 0x00, 31, 1, 1, 0, 0, 0, "avc1.64001f"},
      {"no_parameter_sets", bytes({0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00}), 100, 0x00, 31, 4, 0,
       0, 0, 0, "avc1.64001f"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("avc_config", c.name, c.record);
    auto config = parse_avc_decoder_config(c.record);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->profile, c.profile);
    EXPECT_EQ(config->profile_compatibility, c.compatibility);
    EXPECT_EQ(config->level, c.level);
    EXPECT_EQ(config->nal_length_size, c.nal_length_size);
    EXPECT_EQ(config->sps.size(), c.sps_count);
    EXPECT_EQ(config->pps.size(), c.pps_count);
    EXPECT_EQ(config->width, c.width);
    EXPECT_EQ(config->height, c.height);
    EXPECT_EQ(avc_codec_string(*config), c.codec);
  }
}

TEST(AvcConfig, ParameterSetsAreCopiedVerbatim) {
  auto config = parse_avc_decoder_config(kHigh720p);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->sps[0], Bytes(kHigh720p.begin() + 8, kHigh720p.begin() + 8 + 26));
  EXPECT_EQ(config->pps[0], bytes({0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}));
}

struct ErrorCase {
  std::string name;
  Bytes record;
  std::string error;
};

TEST(AvcConfig, ErrorCases) {
  const std::vector<ErrorCase> cases = {
      {"empty", {}, "truncated AVCDecoderConfigurationRecord"},
      {"short_header", bytes({0x01, 0x64, 0x00, 0x1f, 0xff}),
       "truncated AVCDecoderConfigurationRecord"},
      {"version_0", bytes({0x00, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00}),
       "unsupported AVCDecoderConfigurationRecord version 0"},
      {"nal_length_size_3", bytes({0x01, 0x64, 0x00, 0x1f, 0xfe, 0xe0, 0x00}),
       "invalid AVC NAL length size 3"},
      {"sps_truncated", bytes({0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64}),
       "truncated SPS"},
      {"sps_empty", bytes({0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x00, 0x00}), "empty SPS"},
      {"missing_pps_count", Bytes(kHigh720p.begin(), kHigh720p.begin() + 34), "missing PPS count"},
      {"pps_truncated", Bytes(kHigh720p.begin(), kHigh720p.begin() + 40), "truncated PPS"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("avc_config", c.name, c.record);
    auto config = parse_avc_decoder_config(c.record);
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find(c.error), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace cascade::media
