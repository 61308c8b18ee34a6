#include "media/av_sample.h"

#include <gtest/gtest.h>

#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::bytes;
using testing::Bytes;
using testing::concat;

// 320x240 Constrained Baseline@1.3 AVCDecoderConfigurationRecord (FFmpeg/libx264).
const Bytes kAvcRecord = bytes({
    0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01,
    0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0,
    0xf1, 0x42, 0xa4, 0x80, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20,
});

Frame frame(TrackKind kind, const Bytes& payload, bool config = false, bool keyframe = false) {
  Frame f;
  f.kind = kind;
  f.config = config;
  f.keyframe = keyframe;
  f.dts = 1234;
  f.payload = SharedBytes::copy_of(std::span<const uint8_t>(payload));
  return f;
}

TEST(AvSample, AvcSequenceHeaderGivesTrackConfig) {
  // FLV E.4.3.1: keyframe|AVC, AVCPacketType 0, CompositionTime 0.
  auto config = video_config_from_frame(
      frame(TrackKind::kVideo, concat({bytes({0x17, 0x00, 0, 0, 0}), kAvcRecord}), true));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->codec, VideoCodecId::kH264);
  EXPECT_EQ(config->nal_length_size, 4);
  ASSERT_EQ(config->parameter_sets.size(), 2u);
  EXPECT_EQ(config->parameter_sets[0][0] & 0x1F, 7);  // SPS
  EXPECT_EQ(config->parameter_sets[1][0] & 0x1F, 8);  // PPS
  EXPECT_EQ(config->width, 320u);
  EXPECT_EQ(config->height, 240u);
  EXPECT_EQ(config->codec_string, "avc1.42c00d");
  EXPECT_EQ(config->record.size(), kAvcRecord.size());
}

TEST(AvSample, UnsupportedVideoCodecIsAnError) {
  // Enhanced RTMP: IsExHeader|keyframe, SequenceStart, 'av01' + a record.
  auto config = video_config_from_frame(frame(
      TrackKind::kVideo, bytes({0x90, 'a', 'v', '0', '1', 0x81, 0x00, 0x0c, 0x00}), true));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("not supported"), std::string::npos);
}

TEST(AvSample, AacSequenceHeaderGivesTrackConfig) {
  // AAC LC, 44.1 kHz (index 4), stereo: 0x12 0x10.
  auto config = audio_config_from_frame(frame(TrackKind::kAudio, bytes({0xAF, 0x00, 0x12, 0x10}), true));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->codec, AudioCodecId::kAac);
  EXPECT_EQ(config->aac_object_type, 2);
  EXPECT_EQ(config->sampling_frequency_index, 4);
  EXPECT_EQ(config->channel_configuration, 2);
  EXPECT_EQ(config->sample_rate, 44100u);
  EXPECT_EQ(config->channels, 2);
  EXPECT_EQ(config->samples_per_frame, 1024u);
  EXPECT_EQ(config->codec_string, "mp4a.40.2");
}

TEST(AvSample, Mp3FrameGivesTrackConfig) {
  // FLV SoundFormat 2; MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo.
  Frame mp3 = frame(TrackKind::kAudio, bytes({0x2F, 0xFF, 0xFB, 0x90, 0x64, 0x00}));
  EXPECT_TRUE(is_mp3_frame(mp3));
  auto config = audio_config_from_frame(mp3);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->codec, AudioCodecId::kMp3);
  EXPECT_EQ(config->sample_rate, 44100u);
  EXPECT_EQ(config->channels, 2);
  EXPECT_EQ(config->samples_per_frame, 1152u);
  EXPECT_EQ(config->mpeg_audio_version, 1);
}

TEST(AvSample, MpegAudioHeaderTable) {
  struct Case {
    Bytes header;
    bool ok;
    uint8_t version;
    uint32_t rate;
    uint32_t samples;
    uint8_t channels;
  };
  const Case cases[] = {
      {bytes({0xFF, 0xFB, 0x90, 0x64}), true, 1, 44100, 1152, 2},   // MPEG-1 L3
      {bytes({0xFF, 0xF3, 0x84, 0xC4}), true, 2, 24000, 576, 1},    // MPEG-2 L3, mono
      {bytes({0xFF, 0xE3, 0x88, 0xC4}), true, 25, 8000, 576, 1},    // MPEG-2.5 L3
      {bytes({0xFF, 0xFD, 0x90, 0x64}), true, 1, 44100, 1152, 2},   // MPEG-1 L2
      {bytes({0xFF, 0xEB, 0x90, 0x64}), false, 0, 0, 0, 0},         // reserved version
      {bytes({0xFF, 0xF9, 0x90, 0x64}), false, 0, 0, 0, 0},         // reserved layer
      {bytes({0xFF, 0xFB, 0xF0, 0x64}), false, 0, 0, 0, 0},         // bad bitrate
      {bytes({0xFF, 0xFB, 0x9C, 0x64}), false, 0, 0, 0, 0},         // reserved rate
      {bytes({0xFE, 0xFB, 0x90, 0x64}), false, 0, 0, 0, 0},         // no sync
      {bytes({0xFF, 0xFB, 0x90}), false, 0, 0, 0, 0},               // short
  };
  for (const auto& c : cases) {
    auto h = parse_mpeg_audio_header(c.header);
    ASSERT_EQ(h.ok(), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(h->version, c.version);
    EXPECT_EQ(h->sample_rate, c.rate);
    EXPECT_EQ(h->samples_per_frame, c.samples);
    EXPECT_EQ(h->channels, c.channels);
  }
}

TEST(AvSample, CodedVideoFrameSharesPayloadAndKeepsCompositionTime) {
  // inter frame, AVC NALU, CompositionTime 66 ms, one 3-byte NAL.
  Frame f = frame(TrackKind::kVideo, bytes({0x27, 0x01, 0x00, 0x00, 0x42, 0, 0, 0, 3, 0x41, 0x9a, 0x01}));
  auto sample = av_sample_from_frame(f);
  ASSERT_TRUE(sample.ok());
  ASSERT_TRUE(sample->has_value());
  const AvSample& s = **sample;
  EXPECT_EQ(s.kind, TrackKind::kVideo);
  EXPECT_EQ(s.dts, 1234);
  EXPECT_EQ(s.cts_ms, 66);
  EXPECT_FALSE(s.keyframe);
  EXPECT_EQ(s.data.size(), 7u);
  EXPECT_EQ(s.data.data(), f.payload.data() + 5);  // no copy
  EXPECT_TRUE(nal_units_well_formed(s.data.span(), 4));
}

TEST(AvSample, FramesWithoutSamples) {
  for (const Bytes& body : {bytes({0x17, 0x02, 0, 0, 0}),         // AVC end of sequence
                            bytes({0x17, 0x01, 0, 0, 0}),         // AVC NALU, empty
                            bytes({0x12, 0x00, 0x01})}) {         // Sorenson H.263
    auto sample = av_sample_from_frame(frame(TrackKind::kVideo, body));
    ASSERT_TRUE(sample.ok());
    EXPECT_FALSE(sample->has_value());
  }
  auto speex = av_sample_from_frame(frame(TrackKind::kAudio, bytes({0xB2, 0x01, 0x02})));
  ASSERT_TRUE(speex.ok());
  EXPECT_FALSE(speex->has_value());
  auto truncated = av_sample_from_frame(frame(TrackKind::kVideo, bytes({0x17, 0x01})));
  EXPECT_FALSE(truncated.ok());
}

TEST(AvSample, NalFraming) {
  EXPECT_TRUE(nal_units_well_formed(bytes({0, 0, 0, 1, 0x65, 0, 0, 0, 2, 0x41, 0x00}), 4));
  EXPECT_TRUE(nal_units_well_formed(bytes({0, 1, 0x65}), 2));
  EXPECT_FALSE(nal_units_well_formed(bytes({0, 0, 0, 5, 0x65}), 4));  // past the end
  EXPECT_FALSE(nal_units_well_formed(bytes({0, 0, 0, 0}), 4));        // empty NAL
  EXPECT_FALSE(nal_units_well_formed(bytes({0, 0, 0}), 4));           // cut length
  EXPECT_FALSE(nal_units_well_formed(bytes({}), 4));
  EXPECT_FALSE(nal_units_well_formed(bytes({1, 0x65}), 3));           // bad length size
}

}  // namespace
}  // namespace cascade::media
