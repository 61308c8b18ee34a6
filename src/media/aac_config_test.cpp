#include "media/aac_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::bytes;
using testing::Bytes;
using testing::save_seed;

struct Case {
  std::string name;
  Bytes asc;
  AacConfig expected;
  std::string codec;
};

TEST(AacConfig, GoldenCases) {
  // ISO/IEC 14496-3 1.6.2.1: audioObjectType(5) samplingFrequencyIndex(4)
  // [samplingFrequency(24)] channelConfiguration(4) ...
  const std::vector<Case> cases = {
      {"lc_44100_stereo", bytes({0x12, 0x10}), {2, 4, 44100, 2}, "mp4a.40.2"},
      // FFmpeg's native encoder appends a sync extension (0x2b7, SBR absent).
      {"ffmpeg_lc_44100_stereo_sync_extension",
       bytes({0x12, 0x10, 0x56, 0xe5, 0x00}),
       {2, 4, 44100, 2},
       "mp4a.40.2"},
      {"ffmpeg_lc_48000_mono", bytes({0x11, 0x88}), {2, 3, 48000, 1}, "mp4a.40.2"},
      // Explicit hierarchical HE-AAC signalling: AOT 5 first, core rate.
      {"he_aac_explicit", bytes({0x2b, 0x92, 0x08, 0x00}), {5, 7, 22050, 2}, "mp4a.40.5"},
      // audioObjectType escape: 31 then 6 bits (32 + 10 = 42, USAC).
      {"escape_object_type_42", bytes({0xf9, 0x48, 0x40}), {42, 4, 44100, 2}, "mp4a.40.42"},
      // samplingFrequencyIndex 15: an explicit 24-bit frequency follows.
      {"explicit_frequency_48000",
       bytes({0x17, 0x80, 0x5d, 0xc0, 0x08}),
       {2, 15, 48000, 1},
       "mp4a.40.2"},
      {"index_12_7350", bytes({0x16, 0x08}), {2, 12, 7350, 1}, "mp4a.40.2"},
      {"index_0_96000_7_1", bytes({0x10, 0x38}), {2, 0, 96000, 7}, "mp4a.40.2"},
      {"channels_from_pce", bytes({0x12, 0x00}), {2, 4, 44100, 0}, "mp4a.40.2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("aac_config", c.name, c.asc);
    auto config = parse_aac_audio_specific_config(c.asc);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->object_type, c.expected.object_type);
    EXPECT_EQ(config->sampling_frequency_index, c.expected.sampling_frequency_index);
    EXPECT_EQ(config->sample_rate, c.expected.sample_rate);
    EXPECT_EQ(config->channel_configuration, c.expected.channel_configuration);
    EXPECT_EQ(aac_codec_string(*config), c.codec);
  }
}

struct ErrorCase {
  std::string name;
  Bytes asc;
  std::string error;
};

TEST(AacConfig, ErrorCases) {
  const std::vector<ErrorCase> cases = {
      {"empty", {}, "truncated AudioSpecificConfig (0 bytes)"},
      {"one_byte", bytes({0x12}), "truncated AudioSpecificConfig (1 bytes)"},
      {"escape_truncated", bytes({0xf8}), "truncated AudioSpecificConfig"},
      {"explicit_frequency_truncated", bytes({0x17, 0x80, 0x5d}), "truncated AudioSpecificConfig"},
      {"object_type_0", bytes({0x00, 0x00}), "audioObjectType 0"},
      {"index_13_reserved", bytes({0x16, 0x90}), "samplingFrequencyIndex 13 is reserved"},
      {"index_14_reserved", bytes({0x17, 0x10}), "samplingFrequencyIndex 14 is reserved"},
      {"explicit_frequency_0", bytes({0x17, 0x80, 0x00, 0x00, 0x08}),
       "explicit samplingFrequency is 0"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("aac_config", c.name, c.asc);
    auto config = parse_aac_audio_specific_config(c.asc);
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find(c.error), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace cascade::media
