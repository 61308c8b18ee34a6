#include "media/mp4_track_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/mp4_box_writer.h"
#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::Bytes;
using testing::bytes;
using testing::concat;

// A real libx264 avcC (1280x720 High@3.1; avc_config_test.cpp).
const Bytes kAvcC = bytes({
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
});

// A libx265 hvcC (1280x720 Main@L3.1; hevc_config_test.cpp): header, then
// VPS, SPS and PPS arrays.
Bytes hvcc() {
  const Bytes vps = bytes({0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
                           0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09});
  const Bytes sps = bytes({0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                           0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80,
                           0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00,
                           0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10});
  const Bytes pps = bytes({0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40});
  auto array = [](int type, const Bytes& nal) {
    return concat({bytes({type, 0x00, 0x01, static_cast<int>(nal.size() >> 8),
                          static_cast<int>(nal.size() & 0xff)}),
                   nal});
  };
  return concat({bytes({0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00,
                        0x5d, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03}),
                 array(0x20, vps), array(0x21, sps), array(0x22, pps)});
}

// AudioSpecificConfig: AAC LC, 44.1 kHz, stereo.
const Bytes kAacLc = bytes({0x12, 0x10});

// A visual sample entry of `type` (78 bytes of fields) with `children`.
Bytes visual_entry(uint32_t type, const Bytes& children, uint16_t width = 1280,
                   uint16_t height = 720) {
  Bytes out;
  Mp4BoxWriter w(out);
  const size_t entry = w.begin_box(type);
  w.zeros(6);
  w.u16be(1);
  w.zeros(16);
  w.u16be(width);
  w.u16be(height);
  w.zeros(50);
  w.bytes(children);
  w.end_box(entry);
  return out;
}

Bytes box(uint32_t type, const Bytes& payload) {
  Bytes out;
  Mp4BoxWriter w(out);
  const size_t at = w.begin_box(type);
  w.bytes(payload);
  w.end_box(at);
  return out;
}

// An esds box: ES_Descriptor { DecoderConfigDescriptor { DecoderSpecificInfo } }.
Bytes esds(uint8_t object_type, const Bytes& specific_info) {
  const Bytes dsi =
      specific_info.empty()
          ? Bytes{}
          : concat({bytes({0x05, static_cast<int>(specific_info.size())}), specific_info});
  const Bytes dcd = concat({bytes({0x04, static_cast<int>(13 + dsi.size()), object_type, 0x15, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0, 0}),
                            dsi});
  const Bytes es = concat({bytes({0x03, static_cast<int>(3 + dcd.size() + 3), 0, 0, 0}), dcd,
                           bytes({0x06, 0x01, 0x02})});
  return box(box_type("esds"), concat({bytes({0, 0, 0, 0}), es}));
}

// An audio sample entry (QuickTime `version` 0, 1 or 2) with `children`.
Bytes audio_entry(uint32_t type, const Bytes& children, uint16_t version = 0,
                  uint32_t sample_rate = 44100, uint16_t channels = 2) {
  Bytes out;
  Mp4BoxWriter w(out);
  const size_t entry = w.begin_box(type);
  w.zeros(6);
  w.u16be(1);
  w.u16be(version);
  w.zeros(6);
  w.u16be(channels);
  w.u16be(16);
  w.zeros(4);
  w.u32be(sample_rate << 16);
  w.zeros(version == 1 ? 16 : version == 2 ? 36 : 0);
  w.bytes(children);
  w.end_box(entry);
  return out;
}

Mp4Track track_with(const Bytes& entry, uint32_t timescale = 90000) {
  Mp4Track track;
  track.timescale = timescale;
  Bytes stsd;
  Mp4BoxWriter w(stsd);
  const size_t at = w.begin_full_box(box_type("stsd"), 0, 0);
  w.u32be(1);
  w.bytes(entry);
  w.end_box(at);
  track.stsd = stsd;
  track.description_count = 1;
  track.chunk_runs = {{0, 0, 1, 1}};
  return track;
}

TEST(Mp4TrackConfig, H264FromAvc1AndAvc3) {
  for (uint32_t type : {box_type("avc1"), box_type("avc3")}) {
    const Mp4Track track = track_with(
        visual_entry(type, concat({box(box_type("avcC"), kAvcC),
                                   box(box_type("pasp"), bytes({0, 0, 0, 1, 0, 0, 0, 1}))})));
    auto config = mp4_video_track_config(track);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->codec, VideoCodecId::kH264);
    EXPECT_EQ(config->codec_string, "avc1.64001f");
    EXPECT_EQ(config->width, 1280u);
    EXPECT_EQ(config->height, 720u);
    EXPECT_EQ(config->nal_length_size, 4);
    ASSERT_EQ(config->parameter_sets.size(), 2u);
    EXPECT_EQ(config->parameter_sets[0][0] & 0x1f, 7);  // SPS, then PPS
    EXPECT_EQ(config->parameter_sets[1][0] & 0x1f, 8);
    EXPECT_EQ(Bytes(config->record.span().begin(), config->record.span().end()), kAvcC);
  }
}

TEST(Mp4TrackConfig, HevcFromHvc1AndHev1) {
  for (uint32_t type : {box_type("hvc1"), box_type("hev1")}) {
    const Mp4Track track = track_with(visual_entry(type, box(box_type("hvcC"), hvcc())));
    auto config = mp4_video_track_config(track);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->codec, VideoCodecId::kHevc);
    EXPECT_EQ(config->parameter_sets.size(), 3u);
    EXPECT_EQ(config->width, 1280u);
    EXPECT_EQ(config->height, 720u);
    EXPECT_EQ(config->codec_string.substr(0, 5), "hvc1.");
  }
}

TEST(Mp4TrackConfig, AacFromEsdsPlainAndInQuickTimeWave) {
  const std::vector<Bytes> entries = {
      audio_entry(box_type("mp4a"), esds(0x40, kAacLc)),
      audio_entry(box_type("mp4a"), esds(0x40, kAacLc), 1),
      audio_entry(box_type("mp4a"),
                  box(box_type("wave"), concat({box(box_type("frma"), bytes({'m', 'p', '4', 'a'})),
                                                esds(0x40, kAacLc)})),
                  1),
      audio_entry(box_type("mp4a"), esds(0x67, kAacLc), 2),
  };
  for (const Bytes& entry : entries) {
    auto config = mp4_audio_track_config(track_with(entry, 44100));
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->codec, AudioCodecId::kAac);
    EXPECT_EQ(config->sample_rate, 44100u);
    EXPECT_EQ(config->channels, 2);
    EXPECT_EQ(config->aac_object_type, 2);
    EXPECT_EQ(config->sampling_frequency_index, 4);
    EXPECT_EQ(config->samples_per_frame, 1024u);
    EXPECT_EQ(config->codec_string, "mp4a.40.2");
    EXPECT_EQ(Bytes(config->specific_config.span().begin(), config->specific_config.span().end()),
              kAacLc);
  }
}

TEST(Mp4TrackConfig, MpegAudio) {
  auto mpeg1 =
      mp4_audio_track_config(track_with(audio_entry(box_type("mp4a"), esds(0x6B, {})), 44100));
  ASSERT_TRUE(mpeg1.ok()) << mpeg1.error().message;
  EXPECT_EQ(mpeg1->codec, AudioCodecId::kMp3);
  EXPECT_EQ(mpeg1->mpeg_audio_version, 1);
  EXPECT_EQ(mpeg1->samples_per_frame, 1152u);
  auto mpeg2 = mp4_audio_track_config(
      track_with(audio_entry(box_type("mp4a"), esds(0x69, {}), 0, 22050, 1), 22050));
  ASSERT_TRUE(mpeg2.ok()) << mpeg2.error().message;
  EXPECT_EQ(mpeg2->mpeg_audio_version, 2);
  EXPECT_EQ(mpeg2->samples_per_frame, 576u);
  EXPECT_EQ(mpeg2->channels, 1);
  auto quicktime =
      mp4_audio_track_config(track_with(audio_entry(box_type(".mp3"), {}, 0, 48000), 48000));
  ASSERT_TRUE(quicktime.ok()) << quicktime.error().message;
  EXPECT_EQ(quicktime->sample_rate, 48000u);
}

TEST(Mp4TrackConfig, RefusesWhatTheMuxersCannotCarryAndBrokenEntries) {
  struct Case {
    std::string name;
    Mp4Track track;
    bool video;
    std::string error;
  };
  Mp4Track second_description =
      track_with(visual_entry(box_type("avc1"), box(box_type("avcC"), kAvcC)));
  second_description.chunk_runs.push_back({4, 40, 1, 2});
  Mp4Track empty_stsd;
  const Bytes record_without_pps = bytes({0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00});
  const std::vector<Case> cases = {
      {"vp09", track_with(visual_entry(box_type("vp09"), {})), true, "video codec 'vp09'"},
      {"no_avcC", track_with(visual_entry(box_type("avc1"), {})), true, "without avcC"},
      {"avcC_without_parameter_sets",
       track_with(visual_entry(box_type("avc1"), box(box_type("avcC"), record_without_pps))), true,
       "avcC"},
      {"bad_child_size",
       track_with(visual_entry(box_type("avc1"), bytes({0, 0, 0, 99, 'a', 'v', 'c', 'C'}))), true,
       "bad size 99"},
      {"short_visual_entry", track_with(box(box_type("avc1"), Bytes(20, 0))), true, "truncated"},
      {"second_description", second_description, true, "sample description 2"},
      {"empty_stsd", empty_stsd, true, "truncated stsd"},
      {"ac-3", track_with(audio_entry(box_type("ac-3"), {})), false, "audio codec 'ac-3'"},
      {"no_esds", track_with(audio_entry(box_type("mp4a"), {})), false, "without esds"},
      {"vorbis_in_esds", track_with(audio_entry(box_type("mp4a"), esds(0xDD, {}))), false, "0xdd"},
      {"aac_without_asc", track_with(audio_entry(box_type("mp4a"), esds(0x40, {}))), false,
       "without an AudioSpecificConfig"},
      {"aac_pce", track_with(audio_entry(box_type("mp4a"), esds(0x40, bytes({0x12, 0x00})))), false,
       "program config element"},
      {"truncated_esds",
       track_with(
           audio_entry(box_type("mp4a"), box(box_type("esds"), bytes({0, 0, 0, 0, 3, 0x7f})))),
       false, "truncated"},
      {"short_qt_v2_entry",
       track_with(box(box_type("mp4a"), concat({Bytes(8, 0), bytes({0, 2}), Bytes(18, 0)}))), false,
       "version 2"},
      {"mp3_odd_rate", track_with(audio_entry(box_type(".mp3"), {}, 0, 44000), 44000), false,
       "44000 Hz"},
  };
  for (const Case& c : cases) {
    const std::string message = c.video ? [&] {
      auto r = mp4_video_track_config(c.track);
      return r.ok() ? std::string("ok") : r.error().message;
    }()
                                        : [&] {
                                            auto r = mp4_audio_track_config(c.track);
                                            return r.ok() ? std::string("ok") : r.error().message;
                                          }();
    EXPECT_NE(message.find(c.error), std::string::npos) << c.name << ": " << message;
  }
}

}  // namespace
}  // namespace cascade::media
