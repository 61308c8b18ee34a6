#include "media/flv.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::flv {
namespace {

using media::testing::bytes;
using media::testing::Bytes;
using media::testing::concat;
using media::testing::save_seed;
using media::testing::text;

// Real AVC sequence-start tag body written by FFmpeg/libx264 for 1280x720
// High@3.1: FrameType 1 + CodecID 7, AVCPacketType 0, CompositionTime 0,
// then the AVCDecoderConfigurationRecord.
const Bytes kX264SequenceHeader = bytes({
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a,
    0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00,
    0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
    0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
});
// Real AAC sequence-header tag body written by FFmpeg: SoundFormat 10, 44 kHz,
// 16-bit, stereo (0xAF), AACPacketType 0, AudioSpecificConfig 12 10 56 e5 00.
const Bytes kFfmpegAacSequenceHeader = bytes({0xaf, 0x00, 0x12, 0x10, 0x56, 0xe5, 0x00});

Bytes fourcc_bytes(const char* f) {
  return text(std::string_view(f, 4));
}

// ---------------------------------------------------------------------------
// Writers

TEST(FlvWriter, FileHeaderGolden) {
  std::vector<uint8_t> out;
  write_file_header(true, true, out);
  EXPECT_EQ(out, bytes({'F', 'L', 'V', 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0}));
  out.clear();
  write_file_header(false, true, out);
  EXPECT_EQ(out[4], 0x01);
  out.clear();
  write_file_header(true, false, out);
  EXPECT_EQ(out[4], 0x04);
  EXPECT_EQ(out.size(), 13u);
}

TEST(FlvWriter, TagHeaderGolden) {
  uint8_t header[kTagHeaderSize];
  // FLV spec E.4.1: the timestamp's upper 8 bits go into TimestampExtended.
  write_tag_header(header, kTagVideo, 0x000102, 0x12345678);
  EXPECT_EQ(Bytes(header, header + kTagHeaderSize),
            bytes({0x09, 0x00, 0x01, 0x02, 0x34, 0x56, 0x78, 0x12, 0x00, 0x00, 0x00}));
}

TEST(FlvWriter, TagGolden) {
  std::vector<uint8_t> out;
  write_tag(kTagAudio, 1000, kFfmpegAacSequenceHeader, out);
  EXPECT_EQ(out, concat({bytes({0x08, 0x00, 0x00, 0x07, 0x00, 0x03, 0xe8, 0x00, 0, 0, 0}),
                         kFfmpegAacSequenceHeader, bytes({0, 0, 0, 18})}));
}

// ---------------------------------------------------------------------------
// Video tags

struct VideoCase {
  std::string name;
  Bytes body;
  VideoTagInfo expected;
};

VideoTagInfo video(VideoCodec codec, uint8_t frame_type, VideoPacket packet, int32_t cts,
                   size_t header_size, uint32_t fourcc_value = 0) {
  VideoTagInfo info;
  info.codec = codec;
  info.frame_type = frame_type;
  info.packet = packet;
  info.composition_time_ms = cts;
  info.header_size = header_size;
  info.enhanced = fourcc_value != 0;
  info.fourcc = fourcc_value;
  return info;
}

std::vector<VideoCase> video_cases() {
  using C = VideoCodec;
  using P = VideoPacket;
  const Bytes mod_ex_small = bytes({0x02, 0xaa, 0xbb, 0xcc});  // size 3 (UI8 + 1)
  Bytes mod_ex_large = bytes({0xff, 0x01, 0x00});              // 256 -> UI16 + 1 = 257
  mod_ex_large.resize(mod_ex_large.size() + 257, 0x55);
  return {
      // FLV spec E.4.3.1, legacy AVC.
      {"avc_sequence_header_x264", kX264SequenceHeader,
       video(C::kH264, 1, P::kSequenceStart, 0, 5)},
      {"avc_keyframe_cts", bytes({0x17, 0x01, 0x00, 0x00, 0x43, 0x00, 0x00, 0x02, 0xae, 0x06}),
       video(C::kH264, 1, P::kCodedFrames, 67, 5)},
      {"avc_inter_negative_cts", bytes({0x27, 0x01, 0xff, 0xff, 0xfe, 0x00}),
       video(C::kH264, 2, P::kCodedFrames, -2, 5)},
      {"avc_end_of_sequence", bytes({0x17, 0x02, 0x00, 0x00, 0x00}),
       video(C::kH264, 1, P::kSequenceEnd, 0, 5)},
      {"avc_sequence_header_cts_ignored", bytes({0x17, 0x00, 0x00, 0x00, 0x21}),
       video(C::kH264, 1, P::kSequenceStart, 0, 5)},
      {"avc_unknown_packet_type", bytes({0x27, 0x09, 0x00, 0x00, 0x00}),
       video(C::kH264, 2, P::kOther, 0, 5)},
      {"legacy_hevc_codec_12", bytes({0x1c, 0x00, 0x00, 0x00, 0x00, 0x01}),
       video(C::kHevc, 1, P::kSequenceStart, 0, 5)},
      {"h263_disposable", bytes({0x32, 0x00}), video(C::kH263, 3, P::kCodedFrames, 0, 1)},
      {"screen", bytes({0x13}), video(C::kScreen, 1, P::kCodedFrames, 0, 1)},
      {"vp6", bytes({0x24, 0x00, 0x11}), video(C::kVp6, 2, P::kCodedFrames, 0, 1)},
      {"vp6_alpha", bytes({0x15, 0x00}), video(C::kVp6Alpha, 1, P::kCodedFrames, 0, 1)},
      {"screen2", bytes({0x16}), video(C::kScreen2, 1, P::kCodedFrames, 0, 1)},
      {"unknown_codec_passes", bytes({0x1f, 0x01}), video(C::kUnknown, 1, P::kCodedFrames, 0, 1)},
      {"command_frame", bytes({0x57, 0x00}), video(C::kH264, 5, P::kOther, 0, 2)},
      // Enhanced RTMP, ExVideoTagHeader.
      {"ex_hevc_sequence_start", concat({bytes({0x90}), fourcc_bytes("hvc1"), bytes({0x01})}),
       video(C::kHevc, 1, P::kSequenceStart, 0, 5, kFourCcHevc)},
      {"ex_hevc_coded_frames_cts",
       concat({bytes({0x91}), fourcc_bytes("hvc1"), bytes({0x00, 0x00, 0x21, 0x00})}),
       video(C::kHevc, 1, P::kCodedFrames, 33, 8, kFourCcHevc)},
      {"ex_hevc_coded_frames_negative_cts",
       concat({bytes({0xa1}), fourcc_bytes("hvc1"), bytes({0xff, 0xff, 0xdf})}),
       video(C::kHevc, 2, P::kCodedFrames, -33, 8, kFourCcHevc)},
      {"ex_hevc_coded_frames_x", concat({bytes({0xa3}), fourcc_bytes("hvc1"), bytes({0x00})}),
       video(C::kHevc, 2, P::kCodedFrames, 0, 5, kFourCcHevc)},
      {"ex_avc_coded_frames_cts",
       concat({bytes({0x91}), fourcc_bytes("avc1"), bytes({0x00, 0x00, 0x02})}),
       video(C::kH264, 1, P::kCodedFrames, 2, 8, kFourCcAvc)},
      {"ex_av1_sequence_start", concat({bytes({0x90}), fourcc_bytes("av01"), bytes({0x81})}),
       video(C::kAv1, 1, P::kSequenceStart, 0, 5, kFourCcAv1)},
      {"ex_av1_coded_frames_no_cts", concat({bytes({0xa1}), fourcc_bytes("av01"), bytes({0x12})}),
       video(C::kAv1, 2, P::kCodedFrames, 0, 5, kFourCcAv1)},
      {"ex_vp9_coded_frames", concat({bytes({0x91}), fourcc_bytes("vp09")}),
       video(C::kVp9, 1, P::kCodedFrames, 0, 5, kFourCcVp9)},
      {"ex_sequence_end", concat({bytes({0x92}), fourcc_bytes("hvc1")}),
       video(C::kHevc, 1, P::kSequenceEnd, 0, 5, kFourCcHevc)},
      {"ex_metadata", concat({bytes({0x94}), fourcc_bytes("hvc1"), bytes({0x02, 0x00, 0x00})}),
       video(C::kHevc, 1, P::kMetadata, 0, 5, kFourCcHevc)},
      {"ex_mpeg2ts_sequence_start", concat({bytes({0x95}), fourcc_bytes("av01")}),
       video(C::kAv1, 1, P::kOther, 0, 5, kFourCcAv1)},
      {"ex_unknown_fourcc_passes", concat({bytes({0x91}), fourcc_bytes("vp08"), bytes({0x00})}),
       video(C::kUnknown, 1, P::kCodedFrames, 0, 5, kFourCcVp8)},
      {"ex_reserved_packet_type", concat({bytes({0x9f}), fourcc_bytes("hvc1")}),
       video(C::kHevc, 1, P::kOther, 0, 5, kFourCcHevc)},
      // Enhanced RTMP v2: ModEx prefixes, then the real packet type.
      {"ex_mod_ex_then_coded_frames",
       concat({bytes({0x97}), mod_ex_small, bytes({0x01}), fourcc_bytes("hvc1"),
               bytes({0x00, 0x00, 0x05})}),
       video(C::kHevc, 1, P::kCodedFrames, 5, 13, kFourCcHevc)},
      {"ex_mod_ex_16bit_size",
       concat({bytes({0x97}), mod_ex_large, bytes({0x00}), fourcc_bytes("hvc1")}),
       video(C::kHevc, 1, P::kSequenceStart, 0, 266, kFourCcHevc)},
      // Enhanced RTMP v2: multitrack and command frames are reported as kOther.
      {"ex_multitrack_one_track",
       concat({bytes({0x96, 0x01}), fourcc_bytes("hvc1"), bytes({0x00, 0x00, 0x00, 0x00})}),
       video(C::kHevc, 1, P::kOther, 0, 6, kFourCcHevc)},
      {"ex_command_frame", bytes({0xd1, 0x00}),
       [] {
         VideoTagInfo info = video(C::kUnknown, 5, P::kOther, 0, 2);
         info.enhanced = true;
         return info;
       }()},
      {"ex_multitrack_many_codecs", concat({bytes({0x96, 0x21}), fourcc_bytes("av01")}),
       [] {
         VideoTagInfo info = video(C::kUnknown, 1, P::kOther, 0, 2);
         info.enhanced = true;
         return info;
       }()},
  };
}

TEST(FlvVideoTag, GoldenCases) {
  for (const VideoCase& c : video_cases()) {
    SCOPED_TRACE(c.name);
    save_seed("flv_video_tag", c.name, c.body);
    auto info = parse_video_tag(c.body);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->codec, c.expected.codec);
    EXPECT_EQ(info->frame_type, c.expected.frame_type);
    EXPECT_EQ(info->packet, c.expected.packet);
    EXPECT_EQ(info->composition_time_ms, c.expected.composition_time_ms);
    EXPECT_EQ(info->header_size, c.expected.header_size);
    EXPECT_EQ(info->enhanced, c.expected.enhanced);
    EXPECT_EQ(info->fourcc, c.expected.fourcc);
    EXPECT_EQ(info->keyframe(), c.expected.frame_type == 1);
    EXPECT_LE(info->header_size, c.body.size());
  }
}

struct ErrorCase {
  std::string name;
  Bytes body;
  std::string error;
};

TEST(FlvVideoTag, ErrorCases) {
  const std::vector<ErrorCase> cases = {
      {"empty", {}, "empty FLV video tag"},
      {"avc_truncated", bytes({0x17, 0x01, 0x00}), "truncated AVC video tag header"},
      {"avc_only_frame_byte", bytes({0x27}), "truncated AVC video tag header"},
      {"command_frame_truncated", bytes({0x57}), "truncated FLV video command frame"},
      {"ex_fourcc_truncated", bytes({0x90, 'h', 'v'}), "missing FourCC"},
      {"ex_cts_truncated", concat({bytes({0x91}), fourcc_bytes("hvc1"), bytes({0x00})}),
       "composition time"},
      {"ex_mod_ex_truncated", bytes({0x97, 0x05, 0x00}), "ModEx"},
      {"ex_multitrack_truncated", bytes({0x96, 0x00, 'h'}), "multitrack"},
      {"ex_command_truncated", bytes({0xd0}), "command frame"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("flv_video_tag", c.name, c.body);
    auto info = parse_video_tag(c.body);
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().message.find(c.error), std::string::npos) << info.error().message;
  }
}

// ---------------------------------------------------------------------------
// Audio tags

struct AudioCase {
  std::string name;
  Bytes body;
  AudioTagInfo expected;
};

AudioTagInfo audio(AudioCodec codec, uint8_t rate, uint8_t size, uint8_t type, bool sequence,
                   size_t header_size, uint32_t fourcc_value = 0) {
  return AudioTagInfo{codec, rate, size, type, sequence, header_size, fourcc_value};
}

TEST(FlvAudioTag, GoldenCases) {
  using A = AudioCodec;
  const std::vector<AudioCase> cases = {
      // FLV spec E.4.2.1 / E.4.2.2.
      {"aac_sequence_header_ffmpeg", kFfmpegAacSequenceHeader, audio(A::kAac, 3, 1, 1, true, 2)},
      {"aac_raw", bytes({0xaf, 0x01, 0x21, 0x10}), audio(A::kAac, 3, 1, 1, false, 2)},
      {"aac_mono_8bit_5k", bytes({0xa0, 0x01}), audio(A::kAac, 0, 0, 0, false, 2)},
      {"mp3", bytes({0x2f, 0xff, 0xfb}), audio(A::kMp3, 3, 1, 1, false, 1)},
      {"pcm_le", bytes({0x3e, 0x00}), audio(A::kPcmLe, 3, 1, 0, false, 1)},
      {"nellymoser", bytes({0x6a}), audio(A::kNellymoser, 2, 1, 0, false, 1)},
      {"g711_alaw", bytes({0x72, 0xd5}), audio(A::kG711A, 0, 1, 0, false, 1)},
      {"g711_ulaw", bytes({0x82, 0xff}), audio(A::kG711U, 0, 1, 0, false, 1)},
      {"speex", bytes({0xb2, 0x00}), audio(A::kSpeex, 0, 1, 0, false, 1)},
      {"mp3_8k", bytes({0xe2}), audio(A::kMp38k, 0, 1, 0, false, 1)},
      {"device_specific", bytes({0xf3}), audio(A::kDeviceSpecific, 0, 1, 1, false, 1)},
      // Enhanced RTMP, ExAudioTagHeader.
      {"ex_opus_sequence_start", concat({bytes({0x90}), fourcc_bytes("Opus"), bytes({0x4f})}),
       audio(A::kExHeader, 0, 0, 0, true, 5, kFourCcOpus)},
      {"ex_flac_coded_frames", concat({bytes({0x91}), fourcc_bytes("fLaC"), bytes({0xff})}),
       audio(A::kExHeader, 0, 0, 0, false, 5, kFourCcFlac)},
      {"ex_aac_sequence_start", concat({bytes({0x90}), fourcc_bytes("mp4a"), bytes({0x12, 0x10})}),
       audio(A::kExHeader, 0, 0, 0, true, 5, kFourCcAac)},
      {"ex_ac3", concat({bytes({0x91}), fourcc_bytes("ac-3")}),
       audio(A::kExHeader, 0, 0, 0, false, 5, kFourCcAc3)},
      {"ex_eac3", concat({bytes({0x91}), fourcc_bytes("ec-3")}),
       audio(A::kExHeader, 0, 0, 0, false, 5, kFourCcEac3)},
      {"ex_mp3", concat({bytes({0x91}), fourcc_bytes(".mp3")}),
       audio(A::kExHeader, 0, 0, 0, false, 5, kFourCcMp3)},
      {"ex_multitrack_one_track",
       concat({bytes({0x95, 0x00}), fourcc_bytes("Opus"), bytes({0x00})}),
       audio(A::kExHeader, 0, 0, 0, true, 6, kFourCcOpus)},
      {"ex_multitrack_many_codecs", concat({bytes({0x95, 0x21}), fourcc_bytes("Opus")}),
       audio(A::kExHeader, 0, 0, 0, false, 2, 0)},
      {"ex_mod_ex", concat({bytes({0x97, 0x00, 0xaa, 0x01}), fourcc_bytes("Opus")}),
       audio(A::kExHeader, 0, 0, 0, false, 8, kFourCcOpus)},
  };
  for (const AudioCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("flv_audio_tag", c.name, c.body);
    auto info = parse_audio_tag(c.body);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->codec, c.expected.codec);
    EXPECT_EQ(info->sound_rate, c.expected.sound_rate);
    EXPECT_EQ(info->sound_size, c.expected.sound_size);
    EXPECT_EQ(info->sound_type, c.expected.sound_type);
    EXPECT_EQ(info->sequence_header, c.expected.sequence_header);
    EXPECT_EQ(info->header_size, c.expected.header_size);
    EXPECT_EQ(info->fourcc, c.expected.fourcc);
  }
}

TEST(FlvAudioTag, ErrorCases) {
  const std::vector<ErrorCase> cases = {
      {"empty", {}, "empty FLV audio tag"},
      {"aac_missing_packet_type", bytes({0xaf}), "truncated AAC audio tag header"},
      {"ex_fourcc_truncated", bytes({0x90, 'O', 'p'}), "truncated Enhanced RTMP audio header"},
      {"ex_multitrack_truncated", bytes({0x95}), "truncated Enhanced RTMP audio header"},
      {"ex_mod_ex_truncated", bytes({0x97, 0xff}), "truncated Enhanced RTMP audio header"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("flv_audio_tag", c.name, c.body);
    auto info = parse_audio_tag(c.body);
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().message.find(c.error), std::string::npos) << info.error().message;
  }
}

// ---------------------------------------------------------------------------
// Demuxer

static_assert(std::is_same_v<FlvDemuxer::FlvTag, FlvTag>);

struct Tag {
  uint8_t type;
  uint32_t timestamp_ms;
  Bytes body;
};

const std::vector<Tag>& sample_tags() {
  static const std::vector<Tag> tags = {
      {kTagScript, 0, bytes({0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a',
                             't',  'a',  0x08, 0,   0,   0,   0,   0,   0,   9})},
      {kTagVideo, 0, kX264SequenceHeader},
      {kTagAudio, 0, kFfmpegAacSequenceHeader},
      {kTagVideo, 33, bytes({0x27, 0x01, 0x00, 0x00, 0x00, 0xaa})},
      {kTagAudio, 0x01000000, bytes({0xaf, 0x01})},  // needs TimestampExtended
      {kTagVideo, 66, {}},                           // empty body is legal framing
  };
  return tags;
}

Bytes sample_file() {
  std::vector<uint8_t> out;
  write_file_header(true, true, out);
  for (const Tag& t : sample_tags()) write_tag(t.type, t.timestamp_ms, t.body, out);
  return out;
}

void expect_sample_tags(FlvDemuxer& demuxer) {
  for (const Tag& t : sample_tags()) {
    auto tag = demuxer.next_tag();
    ASSERT_TRUE(tag.has_value());
    EXPECT_EQ(tag->type, t.type);
    EXPECT_EQ(tag->timestamp_ms, t.timestamp_ms);
    EXPECT_EQ(Bytes(tag->body.span().begin(), tag->body.span().end()), t.body);
  }
  EXPECT_FALSE(demuxer.next_tag().has_value());
}

TEST(FlvDemuxer, WholeFileInOneFeed) {
  const Bytes file = sample_file();
  save_seed("flv_demuxer", "sample_file", file);
  FlvDemuxer demuxer;
  EXPECT_FALSE(demuxer.header_seen());
  auto consumed = demuxer.feed(file);
  ASSERT_TRUE(consumed.ok()) << consumed.error().message;
  EXPECT_EQ(*consumed, file.size());
  EXPECT_TRUE(demuxer.header_seen());
  expect_sample_tags(demuxer);
}

TEST(FlvDemuxer, ByteByByteWithCallerKeepingUnconsumedBytes) {
  const Bytes file = sample_file();
  FlvDemuxer demuxer;
  Bytes pending;
  for (uint8_t byte : file) {
    pending.push_back(byte);
    auto consumed = demuxer.feed(pending);
    ASSERT_TRUE(consumed.ok()) << consumed.error().message;
    ASSERT_LE(*consumed, pending.size());
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(*consumed));
  }
  EXPECT_TRUE(pending.empty());
  expect_sample_tags(demuxer);
}

TEST(FlvDemuxer, PartialInputConsumesWholeUnitsOnly) {
  const Bytes file = sample_file();
  FlvDemuxer demuxer;
  auto consumed = demuxer.feed(std::span(file).first(8));
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(*consumed, 0u);
  EXPECT_FALSE(demuxer.header_seen());
  // Header + PreviousTagSize0 + 11 bytes of the first tag header - 1.
  consumed = demuxer.feed(std::span(file).first(9 + 4 + 10));
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(*consumed, 13u);
  EXPECT_TRUE(demuxer.header_seen());
  EXPECT_FALSE(demuxer.next_tag().has_value());
}

TEST(FlvDemuxer, SkipsExtraHeaderBytesFromDataOffset) {
  Bytes file = bytes({'F', 'L', 'V', 1, 5, 0, 0, 0, 12, 0xee, 0xee, 0xee, 0, 0, 0, 0});
  write_tag(kTagVideo, 7, bytes({0x17, 0x02, 0, 0, 0}), file);
  save_seed("flv_demuxer", "data_offset_12", file);
  FlvDemuxer demuxer;
  Bytes pending;
  for (uint8_t byte : file) {  // padding may also arrive in pieces
    pending.push_back(byte);
    auto consumed = demuxer.feed(pending);
    ASSERT_TRUE(consumed.ok()) << consumed.error().message;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(*consumed));
  }
  auto tag = demuxer.next_tag();
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->timestamp_ms, 7u);
  EXPECT_EQ(tag->body.size(), 5u);
}

TEST(FlvDemuxer, ErrorCases) {
  const Bytes header = bytes({'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0});
  const std::vector<ErrorCase> cases = {
      {"bad_signature", bytes({'F', 'L', 'X', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0}), "bad signature"},
      {"version_2", bytes({'F', 'L', 'V', 2, 5, 0, 0, 0, 9, 0, 0, 0, 0}),
       "unsupported FLV version 2"},
      {"data_offset_small", bytes({'F', 'L', 'V', 1, 5, 0, 0, 0, 5, 0, 0, 0, 0}), "DataOffset 5"},
      {"data_offset_huge", bytes({'F', 'L', 'V', 1, 5, 0xff, 0xff, 0xff, 0xff}), "too large"},
      {"previous_tag_size0_nonzero", bytes({'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 1}),
       "PreviousTagSize0 is 1"},
      {"previous_tag_size_mismatch",
       concat({header, bytes({0x09, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0, 0, 13})}),
       "PreviousTagSize mismatch: got 13, expected 12"},
      {"tag_too_large", concat({header, bytes({0x09, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0})}),
       "exceeds the limit 16"},
      {"encrypted_tag", concat({header, bytes({0x29, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11})}),
       "encrypted"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    save_seed("flv_demuxer", c.name, c.body);
    FlvDemuxer demuxer(16);
    auto consumed = demuxer.feed(c.body);
    ASSERT_FALSE(consumed.ok());
    EXPECT_NE(consumed.error().message.find(c.error), std::string::npos)
        << consumed.error().message;
    // The demuxer stays failed.
    auto again = demuxer.feed(c.body);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message, consumed.error().message);
  }
}

TEST(FlvDemuxer, TagsBeforeAnErrorStayQueued) {
  Bytes file = sample_file();
  const Bytes bad = bytes({0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99});
  file.insert(file.end(), bad.begin(), bad.end());
  FlvDemuxer demuxer;
  auto consumed = demuxer.feed(file);
  ASSERT_FALSE(consumed.ok());
  expect_sample_tags(demuxer);
}

}  // namespace
}  // namespace cascade::flv
