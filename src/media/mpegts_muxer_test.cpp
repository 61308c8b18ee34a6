#include "media/mpegts_muxer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/byte_order.h"
#include "media/aac_config.h"
#include "media/avc_config.h"
#include "media/flv.h"
#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::bytes;
using testing::Bytes;
using testing::concat;

// ---------------------------------------------------------------------------
// A minimal TS reader for checking the muxer's output.

struct TsPacket {
  uint16_t pid = 0;
  bool unit_start = false, has_adaptation = false;
  uint8_t continuity_counter = 0;
  Bytes adaptation;  // the adaptation field after adaptation_field_length
  Bytes payload;
};

std::vector<TsPacket> parse_ts(const Bytes& ts) {
  std::vector<TsPacket> packets;
  EXPECT_EQ(ts.size() % kTsPacketSize, 0u);
  for (size_t at = 0; at + kTsPacketSize <= ts.size(); at += kTsPacketSize) {
    const uint8_t* p = ts.data() + at;
    EXPECT_EQ(p[0], kTsSyncByte) << "packet at " << at;
    EXPECT_EQ(p[1] & 0x80, 0) << "transport_error_indicator";
    TsPacket packet;
    packet.unit_start = (p[1] & 0x40) != 0;
    packet.pid = static_cast<uint16_t>((p[1] & 0x1F) << 8 | p[2]);
    EXPECT_EQ(p[3] & 0xC0, 0) << "transport_scrambling_control";
    const int control = p[3] >> 4 & 0x03;
    EXPECT_TRUE(control == 1 || control == 3) << "every packet carries payload";
    packet.continuity_counter = p[3] & 0x0F;
    size_t pos = 4;
    if (control == 3) {
      packet.has_adaptation = true;
      const size_t length = p[4];
      EXPECT_LE(length, 182u);
      packet.adaptation.assign(p + 5, p + 5 + length);
      pos = 5 + length;
    }
    packet.payload.assign(p + pos, p + kTsPacketSize);
    packets.push_back(std::move(packet));
  }
  return packets;
}

// The PES packets of one PID, reassembled from their TS packets.
std::vector<Bytes> pes_of(const std::vector<TsPacket>& packets, uint16_t pid) {
  std::vector<Bytes> pes;
  for (const TsPacket& packet : packets) {
    if (packet.pid != pid) continue;
    if (packet.unit_start) pes.emplace_back();
    EXPECT_FALSE(pes.empty()) << "payload before the first unit start";
    if (pes.empty()) continue;
    pes.back().insert(pes.back().end(), packet.payload.begin(), packet.payload.end());
  }
  return pes;
}

// 13818-1 2.4.3.7: checks prefix and marker bits, returns the 33-bit value.
uint64_t decode_timestamp(const uint8_t* p, uint8_t prefix) {
  EXPECT_EQ(p[0] >> 4, prefix);
  EXPECT_EQ(p[0] & p[2] & p[4] & 1, 1) << "marker_bit";
  return uint64_t(p[0] >> 1 & 0x07) << 30 | uint64_t(p[1]) << 22 | uint64_t(p[2] >> 1) << 15 |
         uint64_t(p[3]) << 7 | uint64_t(p[4] >> 1);
}

struct Pes {
  uint8_t stream_id = 0, flags = 0;
  uint16_t packet_length = 0;
  uint64_t pts = 0;
  std::optional<uint64_t> dts;
  Bytes es;
};

Pes parse_pes(const Bytes& b) {
  Pes pes;
  EXPECT_GE(b.size(), 14u);
  if (b.size() < 14) return pes;
  EXPECT_EQ(load_u24be(b.data()), 1u) << "packet_start_code_prefix";
  pes.stream_id = b[3];
  pes.packet_length = static_cast<uint16_t>(b[4] << 8 | b[5]);
  pes.flags = b[6];
  const uint8_t pts_dts = b[7] >> 6;
  const size_t header_length = b[8];
  EXPECT_TRUE(pts_dts == 2 || pts_dts == 3);
  EXPECT_EQ(b[7] & 0x3F, 0);
  EXPECT_EQ(header_length, pts_dts == 3 ? 10u : 5u);
  pes.pts = decode_timestamp(&b[9], pts_dts);
  if (pts_dts == 3) pes.dts = decode_timestamp(&b[14], 1);
  pes.es.assign(b.begin() + 9 + static_cast<std::ptrdiff_t>(header_length), b.end());
  if (pes.packet_length != 0) {
    EXPECT_EQ(pes.packet_length, b.size() - 6) << "PES_packet_length";
  }
  return pes;
}

std::optional<uint64_t> pcr_of(const TsPacket& packet) {
  if (packet.adaptation.empty() || !(packet.adaptation[0] & 0x10)) return std::nullopt;
  EXPECT_GE(packet.adaptation.size(), 7u);
  const uint8_t* q = &packet.adaptation[1];
  EXPECT_EQ(q[4] & 0x7E, 0x7E) << "PCR reserved bits";
  const uint64_t base = uint64_t(q[0]) << 25 | uint64_t(q[1]) << 17 | uint64_t(q[2]) << 9 |
                        uint64_t(q[3]) << 1 | uint64_t(q[4] >> 7);
  const uint32_t extension = uint32_t(q[4] & 1) << 8 | q[5];
  return base * 300 + extension;
}

bool random_access(const TsPacket& packet) {
  return !packet.adaptation.empty() && (packet.adaptation[0] & 0x40);
}

// ---------------------------------------------------------------------------
// Synthetic tracks and samples.

const Bytes kSps = bytes({0x67, 0x42, 0x00, 0x1e});
const Bytes kPps = bytes({0x68, 0xce, 0x3c, 0x80});
const Bytes kIdr = bytes({0x65, 0x88, 0x84, 0x00});
const Bytes kNonIdr = bytes({0x41, 0x9a, 0x02});
const Bytes kStartCode = bytes({0, 0, 0, 1});
const Bytes kH264Aud = bytes({0, 0, 0, 1, 0x09, 0xf0});

VideoTrackConfig h264_track(uint8_t nal_length_size = 4) {
  VideoTrackConfig video;
  video.codec = VideoCodecId::kH264;
  video.nal_length_size = nal_length_size;
  video.parameter_sets = {kSps, kPps};
  return video;
}

AudioTrackConfig aac_track() {
  AudioTrackConfig audio;
  audio.codec = AudioCodecId::kAac;
  audio.aac_object_type = 2;           // AAC LC
  audio.sampling_frequency_index = 4;  // 44100 Hz
  audio.channel_configuration = 2;
  audio.sample_rate = 44100;
  audio.channels = 2;
  return audio;
}

AudioTrackConfig mp3_track(uint8_t version) {
  AudioTrackConfig audio;
  audio.codec = AudioCodecId::kMp3;
  audio.mpeg_audio_version = version;
  audio.samples_per_frame = version == 1 ? 1152 : 576;
  return audio;
}

TrackSet tracks(std::optional<VideoTrackConfig> video, std::optional<AudioTrackConfig> audio) {
  return TrackSet{std::move(video), std::move(audio)};
}

// AVCC: each NAL unit behind its big-endian length.
Bytes avcc(std::initializer_list<Bytes> nals, size_t length_size = 4) {
  Bytes out;
  for (const Bytes& nal : nals) {
    for (size_t i = length_size; i-- > 0;)
      out.push_back(static_cast<uint8_t>(nal.size() >> (8 * i)));
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

Bytes annex_b(std::initializer_list<Bytes> nals) {
  Bytes out;
  for (const Bytes& nal : nals) {
    out.insert(out.end(), kStartCode.begin(), kStartCode.end());
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

AvSample video_sample(MediaTimeMs dts, int32_t cts_ms, bool keyframe, const Bytes& data) {
  return AvSample{TrackKind::kVideo, dts, cts_ms, keyframe, SharedBytes::copy_of(data)};
}

AvSample audio_sample(MediaTimeMs dts, const Bytes& data) {
  return AvSample{TrackKind::kAudio, dts, 0, true, SharedBytes::copy_of(data)};
}

Bytes filler(size_t size, uint8_t seed = 0) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

Bytes stuffing(size_t size) {
  return Bytes(size, 0xFF);
}

// ---------------------------------------------------------------------------
// CRC and PSI

TEST(TsMuxerCrc, KnownValues) {
  // CRC-32/MPEG-2 check value (the CRC of "123456789").
  const Bytes check = testing::text("123456789");
  EXPECT_EQ(ts_crc32(check), 0x0376E6E7u);
  EXPECT_EQ(ts_crc32({}), 0xFFFFFFFFu);
  // Over a section with its CRC_32 (here FFmpeg's PAT): 0.
  EXPECT_EQ(ts_crc32(bytes({0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00,
                            0x2a, 0xb1, 0x04, 0xb2})),
            0u);
}

// Golden packets: what FFmpeg 5.1's mpegts muxer writes for an H.264 + AAC
// stream (its default PIDs and program number are ours).
const Bytes kFfmpegPat =
    concat({bytes({0x47, 0x40, 0x00, 0x10, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1,
                   0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2}),
            stuffing(188 - 21)});
const Bytes kFfmpegPmtH264Aac =
    concat({bytes({0x47, 0x50, 0x00, 0x10, 0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1,
                   0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00,
                   0x0f, 0xe1, 0x01, 0xf0, 0x00, 0x2f, 0x44, 0xb9, 0x9b}),
            stuffing(188 - 31)});

TEST(TsMuxerTables, PatAndPmtMatchFfmpeg) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  muxer.write_tables(out);
  ASSERT_EQ(out.size(), 2 * kTsPacketSize);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 188), kFfmpegPat);
  EXPECT_EQ(Bytes(out.begin() + 188, out.end()), kFfmpegPmtH264Aac);
}

// The section inside a PSI packet: pointer_field 0, then section_length + 3 bytes.
Bytes section_of(const Bytes& packet) {
  EXPECT_EQ(packet[4], 0) << "pointer_field";
  const size_t length = (packet[6] & 0x0F) << 8 | packet[7];
  return Bytes(packet.begin() + 5, packet.begin() + 5 + 3 + static_cast<std::ptrdiff_t>(length));
}

struct PmtCase {
  const char* name;
  std::optional<VideoTrackConfig> video;
  std::optional<AudioTrackConfig> audio;
  Bytes expected_program;  // PCR_PID .. last ES_info_length, before the CRC
};

TEST(TsMuxerTables, PmtStreamTypesAndPcrPid) {
  VideoTrackConfig hevc = h264_track();
  hevc.codec = VideoCodecId::kHevc;
  const PmtCase cases[] = {
      {"hevc_aac", hevc, aac_track(),
       bytes({0xe1, 0x00, 0xf0, 0x00, 0x24, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00})},
      {"h264_only", h264_track(), std::nullopt,
       bytes({0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00})},
      {"aac_only", std::nullopt, aac_track(),
       bytes({0xe1, 0x01, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00})},
      {"mp3_mpeg1", std::nullopt, mp3_track(1),
       bytes({0xe1, 0x01, 0xf0, 0x00, 0x03, 0xe1, 0x01, 0xf0, 0x00})},
      {"mp3_mpeg2", h264_track(), mp3_track(2),
       bytes({0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x04, 0xe1, 0x01, 0xf0, 0x00})},
      {"mp3_mpeg25", std::nullopt, mp3_track(25),
       bytes({0xe1, 0x01, 0xf0, 0x00, 0x04, 0xe1, 0x01, 0xf0, 0x00})},
  };
  for (const PmtCase& c : cases) {
    SCOPED_TRACE(c.name);
    TsMuxer muxer(tracks(c.video, c.audio));
    Bytes out;
    muxer.write_tables(out);
    ASSERT_EQ(out.size(), 2 * kTsPacketSize);
    EXPECT_EQ(Bytes(out.begin(), out.begin() + 188), kFfmpegPat);
    const Bytes pmt_packet(out.begin() + 188, out.end());
    EXPECT_EQ(Bytes(pmt_packet.begin(), pmt_packet.begin() + 4), bytes({0x47, 0x50, 0x00, 0x10}));
    const Bytes section = section_of(pmt_packet);
    const Bytes expected =
        concat({bytes({0x02, 0xb0, static_cast<int>(c.expected_program.size() + 9), 0x00, 0x01,
                       0xc1, 0x00, 0x00}),
                c.expected_program});
    ASSERT_EQ(section.size(), expected.size() + 4);
    EXPECT_EQ(Bytes(section.begin(), section.end() - 4), expected);
    EXPECT_EQ(ts_crc32(section), 0u) << "CRC_32";
    for (size_t i = 5 + section.size(); i < 188; ++i) ASSERT_EQ(pmt_packet[i], 0xFF) << i;
  }
}

// ---------------------------------------------------------------------------
// Golden PES packets

TEST(TsMuxerPes, VideoKeyframeGolden) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  ASSERT_TRUE(muxer.write_sample(video_sample(0, 80, true, avcc({kIdr})), out));
  const Bytes pes = concat(
      {bytes({0x00, 0x00, 0x01, 0xe0, 0x00, 0x00,  // start code, stream_id, PES_packet_length 0
              0x84, 0xc0, 0x0a,                    // data_alignment, PTS+DTS, header length 10
              0x31, 0x00, 0x01, 0x38, 0x41,        // PTS 7200 (80 ms)
              0x11, 0x00, 0x01, 0x00, 0x01}),      // DTS 0
       kH264Aud, annex_b({kSps, kPps, kIdr})});
  ASSERT_EQ(pes.size(), 49u);
  const Bytes expected =
      concat({bytes({0x47, 0x41, 0x00, 0x30,                // PUSI, PID 0x100, AF + payload, cc 0
                     0x86, 0x50,                            // AF length 134: RAI + PCR
                     0x00, 0x00, 0x00, 0x00, 0x7e, 0x00}),  // PCR 0
              stuffing(127), pes});
  EXPECT_EQ(out, expected);
}

TEST(TsMuxerPes, AacFrameGolden) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  ASSERT_TRUE(muxer.write_sample(audio_sample(1000, bytes({0x21, 0x10, 0x04})), out));
  const Bytes pes = bytes({
      0x00, 0x00, 0x01, 0xc0, 0x00, 0x12,        // stream_id 0xC0, PES_packet_length 18
      0x84, 0x80, 0x05,                          // data_alignment, PTS only, header length 5
      0x21, 0x00, 0x05, 0xbf, 0x21,              // PTS 90000 (1000 ms)
      0xff, 0xf1, 0x50, 0x80, 0x01, 0x5f, 0xfc,  // ADTS: LC, 44.1 kHz, 2 ch, frame_length 10
      0x21, 0x10, 0x04,
  });
  const Bytes expected =
      concat({bytes({0x47, 0x41, 0x01, 0x30,  // PUSI, PID 0x101, AF + payload, cc 0
                     0x9f, 0x00}),            // AF length 159, no flags (no PCR: video carries it)
              stuffing(158), pes});
  EXPECT_EQ(out, expected);
}

// ---------------------------------------------------------------------------
// PES fields

TEST(TsMuxerPes, TimestampsWithAndWithoutDts) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  ASSERT_TRUE(muxer.write_sample(video_sample(40, 0, false, avcc({kNonIdr})), out));
  ASSERT_TRUE(muxer.write_sample(video_sample(80, 120, false, avcc({kNonIdr})), out));
  ASSERT_TRUE(muxer.write_sample(audio_sample(23, bytes({1, 2, 3})), out));
  const auto packets = parse_ts(out);
  const auto video = pes_of(packets, kTsVideoPid);
  ASSERT_EQ(video.size(), 2u);
  const Pes p0 = parse_pes(video[0]);
  EXPECT_EQ(p0.stream_id, 0xE0);
  EXPECT_EQ(p0.packet_length, 0);
  EXPECT_EQ(p0.flags, 0x84);
  EXPECT_EQ(p0.pts, 40u * 90);
  EXPECT_FALSE(p0.dts) << "DTS only when it differs from PTS";
  const Pes p1 = parse_pes(video[1]);
  EXPECT_EQ(p1.pts, 200u * 90);
  ASSERT_TRUE(p1.dts);
  EXPECT_EQ(*p1.dts, 80u * 90);
  const auto audio = pes_of(packets, kTsAudioPid);
  ASSERT_EQ(audio.size(), 1u);
  const Pes a = parse_pes(audio[0]);
  EXPECT_EQ(a.stream_id, 0xC0);
  EXPECT_EQ(a.pts, 23u * 90);
  EXPECT_FALSE(a.dts);
  EXPECT_EQ(a.packet_length, 8 + 7 + 3);
}

TEST(TsMuxerPes, TimestampBitGroupsAnd33BitWrap) {
  TsMuxer muxer(tracks(h264_track(), std::nullopt));
  Bytes out;
  // 95443718 ms * 90 = 2^33 + 28; PTS 1 ms later.
  ASSERT_TRUE(muxer.write_sample(video_sample(95443718, 1, false, avcc({kNonIdr})), out));
  const auto packets = parse_ts(out);
  const Pes pes = parse_pes(pes_of(packets, kTsVideoPid).at(0));
  ASSERT_TRUE(pes.dts);
  EXPECT_EQ(*pes.dts, 28u);
  EXPECT_EQ(pes.pts, 28u + 90);
  EXPECT_EQ(pcr_of(packets[0]), 28u * 300);
  // 90 kHz values reaching into each of the 15/15/3-bit groups; the last is
  // 2^33 - 62, the largest multiple of 90 below the wrap.
  for (uint64_t ms : {uint64_t{1}, uint64_t{364}, uint64_t{11930464}, uint64_t{95443717}}) {
    out.clear();
    ASSERT_TRUE(muxer.write_sample(
        video_sample(static_cast<MediaTimeMs>(ms), 0, false, avcc({kNonIdr})), out));
    EXPECT_EQ(parse_pes(pes_of(parse_ts(out), kTsVideoPid).at(0)).pts, ms * 90) << ms;
  }
}

// ---------------------------------------------------------------------------
// Annex B conversion, AUD and parameter sets

Bytes video_es(TsMuxer& muxer, const AvSample& sample) {
  Bytes out;
  EXPECT_TRUE(muxer.write_sample(sample, out));
  const auto pes = pes_of(parse_ts(out), kTsVideoPid);
  EXPECT_EQ(pes.size(), 1u);
  if (pes.empty()) return {};
  return parse_pes(pes[0]).es;
}

TEST(TsMuxerVideo, AudAndParameterSetsOnKeyframesOnly) {
  TsMuxer muxer(tracks(h264_track(), std::nullopt));
  const Bytes sei = bytes({0x06, 0x05, 0x01, 0x00, 0x80});
  EXPECT_EQ(video_es(muxer, video_sample(0, 0, true, avcc({sei, kIdr}))),
            concat({kH264Aud, annex_b({kSps, kPps, sei, kIdr})}));
  EXPECT_EQ(video_es(muxer, video_sample(40, 0, false, avcc({kNonIdr}))),
            concat({kH264Aud, annex_b({kNonIdr})}));
  // Zero-length NAL units are skipped, not written as empty start codes.
  EXPECT_EQ(video_es(muxer, video_sample(80, 0, false, avcc({Bytes{}, kNonIdr, Bytes{}}))),
            concat({kH264Aud, annex_b({kNonIdr})}));
}

TEST(TsMuxerVideo, ExistingAudKeptAndInBandSpsNotDuplicated) {
  TsMuxer muxer(tracks(h264_track(), std::nullopt));
  const Bytes aud = bytes({0x09, 0x10});
  EXPECT_EQ(video_es(muxer, video_sample(0, 0, true, avcc({aud, kIdr}))),
            annex_b({aud, kSps, kPps, kIdr}));
  EXPECT_EQ(video_es(muxer, video_sample(40, 0, false, avcc({aud, kNonIdr}))),
            annex_b({aud, kNonIdr}));
  // A keyframe with its own SPS gets no second copy.
  const Bytes own_sps = bytes({0x67, 0x4d, 0x00, 0x28});
  const Bytes own_pps = bytes({0x68, 0xee, 0x3c});
  EXPECT_EQ(video_es(muxer, video_sample(0, 0, true, avcc({own_sps, own_pps, kIdr}))),
            concat({kH264Aud, annex_b({own_sps, own_pps, kIdr})}));
}

TEST(TsMuxerVideo, NalLengthSizes) {
  for (uint8_t length_size : {1, 2, 4}) {
    SCOPED_TRACE(int(length_size));
    TsMuxer muxer(tracks(h264_track(length_size), std::nullopt));
    const Bytes big = concat({bytes({0x41}), filler(300)});
    const Bytes nal = length_size == 1 ? kNonIdr : big;
    EXPECT_EQ(video_es(muxer, video_sample(0, 0, false, avcc({nal, kNonIdr}, length_size))),
              concat({kH264Aud, annex_b({nal, kNonIdr})}));
    // A length one past the end, at this length size, drops the sample.
    Bytes cut = avcc({nal}, length_size);
    cut.pop_back();
    Bytes out;
    EXPECT_FALSE(muxer.write_sample(video_sample(0, 0, false, cut), out));
    EXPECT_TRUE(out.empty());
  }
}

TEST(TsMuxerVideo, HevcAudAndParameterSets) {
  VideoTrackConfig hevc;
  hevc.codec = VideoCodecId::kHevc;
  hevc.nal_length_size = 4;
  const Bytes vps = bytes({0x40, 0x01, 0x0c});
  const Bytes sps = bytes({0x42, 0x01, 0x01});
  const Bytes pps = bytes({0x44, 0x01, 0xc1});
  const Bytes idr = bytes({0x26, 0x01, 0xaf});    // IDR_W_RADL (19)
  const Bytes trail = bytes({0x02, 0x01, 0xd0});  // TRAIL_R (1)
  const Bytes aud = bytes({0x46, 0x01, 0x50});    // AUD_NUT (35)
  hevc.parameter_sets = {vps, sps, pps};
  TsMuxer muxer(tracks(hevc, std::nullopt));
  EXPECT_EQ(video_es(muxer, video_sample(0, 0, true, avcc({idr}))),
            annex_b({aud, vps, sps, pps, idr}));
  EXPECT_EQ(video_es(muxer, video_sample(40, 0, false, avcc({trail}))), annex_b({aud, trail}));
  // An AUD already there is kept (not doubled); an in-band SPS suppresses insertion.
  const Bytes own_aud = bytes({0x46, 0x01, 0x10});
  EXPECT_EQ(video_es(muxer, video_sample(80, 0, true, avcc({own_aud, vps, sps, pps, idr}))),
            annex_b({own_aud, vps, sps, pps, idr}));
}

// ---------------------------------------------------------------------------
// Malformed and unmuxable samples

TEST(TsMuxerVideo, MalformedSamplesDroppedWithoutOutput) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes past_end = avcc({kIdr});
  past_end[3] = 5;  // claims 5 bytes, 4 present
  Bytes huge = avcc({kIdr});
  huge[0] = 0xFF;  // 4 GB
  const Bytes cut_length = concat({avcc({kIdr}), bytes({0x00, 0x00})});
  const std::pair<const char*, Bytes> cases[] = {
      {"past_end", past_end},
      {"huge", huge},
      {"cut_length", cut_length},
      {"empty", Bytes{}},
      {"only_zero_length", avcc({Bytes{}})},
  };
  Bytes out = bytes({0xAA});
  for (const auto& [name, data] : cases) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(muxer.write_sample(video_sample(0, 0, true, data), out));
    EXPECT_EQ(out, bytes({0xAA})) << "nothing appended";
  }
  out.clear();
  // Counters did not move: the next good sample starts at cc 0.
  ASSERT_TRUE(muxer.write_sample(video_sample(0, 0, false, avcc({kNonIdr})), out));
  const auto packets = parse_ts(out);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].continuity_counter, 0);
}

TEST(TsMuxerSamples, SamplesWithoutTrackDropped) {
  Bytes out;
  TsMuxer video_only(tracks(h264_track(), std::nullopt));
  EXPECT_FALSE(video_only.write_sample(audio_sample(0, bytes({1, 2})), out));
  TsMuxer audio_only(tracks(std::nullopt, aac_track()));
  EXPECT_FALSE(audio_only.write_sample(video_sample(0, 0, true, avcc({kIdr})), out));
  AvSample data = audio_sample(0, bytes({1}));
  data.kind = TrackKind::kData;
  EXPECT_FALSE(audio_only.write_sample(data, out));
  EXPECT_FALSE(audio_only.write_sample(audio_sample(0, Bytes{}), out));
  EXPECT_TRUE(out.empty());
}

TEST(TsMuxerAudio, AdtsLimits) {
  Bytes out;
  TsMuxer muxer(tracks(std::nullopt, aac_track()));
  // ADTS frame_length is 13 bits: 8191 - 7 header bytes is the largest frame.
  EXPECT_TRUE(muxer.write_sample(audio_sample(0, filler(8184)), out));
  out.clear();
  EXPECT_FALSE(muxer.write_sample(audio_sample(0, filler(8185)), out));
  EXPECT_TRUE(out.empty());

  AudioTrackConfig usac = aac_track();
  usac.aac_object_type = 42;
  TsMuxer usac_muxer(tracks(std::nullopt, usac));
  EXPECT_FALSE(usac_muxer.write_sample(audio_sample(0, bytes({1, 2})), out));
  AudioTrackConfig explicit_rate = aac_track();
  explicit_rate.sampling_frequency_index = 15;
  TsMuxer explicit_muxer(tracks(std::nullopt, explicit_rate));
  EXPECT_FALSE(explicit_muxer.write_sample(audio_sample(0, bytes({1, 2})), out));
  EXPECT_TRUE(out.empty());
}

TEST(TsMuxerAudio, AdtsHeaderFields) {
  struct Case {
    uint8_t object_type, frequency_index, channels;
    size_t payload;
    Bytes header;
  };
  const Case cases[] = {
      // LC, 44.1 kHz, stereo, 100 bytes -> frame_length 107.
      {2, 4, 2, 100, bytes({0xff, 0xf1, 0x50, 0x80, 0x0d, 0x7f, 0xfc})},
      // LC, 48 kHz, 5.1 (config 6), 1000 bytes -> 1007.
      {2, 3, 6, 1000, bytes({0xff, 0xf1, 0x4d, 0x80, 0x7d, 0xff, 0xfc})},
      // Main, 96 kHz, mono.
      {1, 0, 1, 10, bytes({0xff, 0xf1, 0x00, 0x40, 0x02, 0x3f, 0xfc})},
      // HE-AAC v1 (explicit SBR) rides on an LC core at 24 kHz.
      {5, 6, 2, 10, bytes({0xff, 0xf1, 0x58, 0x80, 0x02, 0x3f, 0xfc})},
      // HE-AAC v2 (PS): LC core, mono.
      {29, 6, 1, 10, bytes({0xff, 0xf1, 0x58, 0x40, 0x02, 0x3f, 0xfc})},
      // Largest frame_length, 8191 (all 13 bits set).
      {2, 4, 2, 8184, bytes({0xff, 0xf1, 0x50, 0x83, 0xff, 0xff, 0xfc})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(int(c.object_type));
    AudioTrackConfig audio = aac_track();
    audio.aac_object_type = c.object_type;
    audio.sampling_frequency_index = c.frequency_index;
    audio.channel_configuration = c.channels;
    TsMuxer muxer(tracks(std::nullopt, audio));
    Bytes out;
    const Bytes frame = filler(c.payload, 3);
    ASSERT_TRUE(muxer.write_sample(audio_sample(0, frame), out));
    const Pes pes = parse_pes(pes_of(parse_ts(out), kTsAudioPid).at(0));
    EXPECT_EQ(pes.es, concat({c.header, frame}));
  }
}

TEST(TsMuxerAudio, Mp3PayloadAsIs) {
  TsMuxer muxer(tracks(std::nullopt, mp3_track(1)));
  const Bytes frame = concat({bytes({0xff, 0xfb, 0x90, 0x64}), filler(413)});
  Bytes out;
  ASSERT_TRUE(muxer.write_sample(audio_sample(26, frame), out));
  const Pes pes = parse_pes(pes_of(parse_ts(out), kTsAudioPid).at(0));
  EXPECT_EQ(pes.es, frame);
  EXPECT_EQ(pes.stream_id, 0xC0);
  EXPECT_EQ(pes.packet_length, 8 + frame.size());
  // PES_packet_length is 16 bits.
  out.clear();
  EXPECT_TRUE(muxer.write_sample(audio_sample(0, filler(0xFFFF - 8)), out));
  out.clear();
  EXPECT_FALSE(muxer.write_sample(audio_sample(0, filler(0xFFFF - 7)), out));
  EXPECT_TRUE(out.empty());
}

// ---------------------------------------------------------------------------
// Packetization: stuffing, continuity, PCR, random access

TEST(TsMuxerPackets, AdaptationFieldStuffingOnLastPacket) {
  // MP3 with video in the program: no PCR or RAI on audio, so the 14-byte
  // PES header + frame is the whole payload.
  struct Case {
    size_t frame;
    size_t packets;
    int last_af_length;  // -1: no adaptation field
  };
  const Case cases[] = {
      {170, 1, -1},   // PES 184: exactly one packet
      {169, 1, 0},    // PES 183: one stuffing byte, adaptation_field_length 0
      {168, 1, 1},    // PES 182: length 1, flags byte only
      {100, 1, 69},   // PES 114
      {171, 2, 182},  // PES 185: the second packet carries 1 byte
      {354, 2, -1},   // PES 368: two full packets
      {353, 2, 0},    // PES 367   {1000, 6, 89},  // PES 1014 = 5 * 184 + 94
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.frame);
    TsMuxer muxer(tracks(h264_track(), mp3_track(1)));
    Bytes out;
    const Bytes frame = filler(c.frame, 11);
    ASSERT_TRUE(muxer.write_sample(audio_sample(0, frame), out));
    const auto packets = parse_ts(out);
    ASSERT_EQ(packets.size(), c.packets);
    for (size_t i = 0; i < packets.size(); ++i) {
      EXPECT_EQ(packets[i].pid, kTsAudioPid);
      EXPECT_EQ(packets[i].unit_start, i == 0);
      EXPECT_EQ(packets[i].continuity_counter, i);
      if (i + 1 < packets.size()) {
        EXPECT_FALSE(packets[i].has_adaptation);
      }
    }
    const TsPacket& last = packets.back();
    if (c.last_af_length < 0) {
      EXPECT_FALSE(last.has_adaptation);
    } else {
      ASSERT_TRUE(last.has_adaptation);
      ASSERT_EQ(last.adaptation.size(), static_cast<size_t>(c.last_af_length));
      if (!last.adaptation.empty()) {
        EXPECT_EQ(last.adaptation[0], 0x00) << "no flags";
        for (size_t i = 1; i < last.adaptation.size(); ++i) EXPECT_EQ(last.adaptation[i], 0xFF);
      }
    }
    const auto pes = pes_of(packets, kTsAudioPid);
    ASSERT_EQ(pes.size(), 1u);
    EXPECT_EQ(pes[0].size(), 14 + c.frame) << "no PES padding";
    EXPECT_EQ(parse_pes(pes[0]).es, frame);
  }
}

TEST(TsMuxerPackets, VideoWithPcrAndStuffing) {
  TsMuxer muxer(tracks(h264_track(), std::nullopt));
  // First packet: 184 - 8 (AF with PCR) = 176 payload bytes. A PES of 19 +
  // 6 (AUD) + 4 + 147 bytes = 176 fills it exactly.
  const Bytes nal = concat({bytes({0x41}), filler(146)});
  Bytes out;
  ASSERT_TRUE(muxer.write_sample(video_sample(0, 40, false, avcc({nal})), out));
  auto packets = parse_ts(out);
  ASSERT_EQ(packets.size(), 1u);
  ASSERT_EQ(packets[0].adaptation.size(), 7u);
  EXPECT_EQ(packets[0].adaptation[0], 0x10) << "PCR, no RAI on a non-keyframe";
  // One byte more spills into a second packet with 183 bytes of stuffing.
  out.clear();
  const Bytes bigger = concat({bytes({0x41}), filler(147)});
  ASSERT_TRUE(muxer.write_sample(video_sample(40, 40, false, avcc({bigger})), out));
  packets = parse_ts(out);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].adaptation.size(), 7u);
  EXPECT_EQ(packets[1].adaptation.size(), 182u);
  EXPECT_FALSE(pcr_of(packets[1]));
  EXPECT_EQ(packets[0].continuity_counter, 1);
  EXPECT_EQ(packets[1].continuity_counter, 2);
}

TEST(TsMuxerPackets, ContinuityCountersPerPidAcrossSegments) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  const Bytes big_nal = concat({bytes({0x65}), filler(500)});
  for (int segment = 0; segment < 17; ++segment) {
    muxer.write_tables(out);
    for (int i = 0; i < 5; ++i) {
      const MediaTimeMs t = segment * 200 + i * 40;
      ASSERT_TRUE(muxer.write_sample(video_sample(t, 0, i == 0, avcc({big_nal})), out));
      ASSERT_TRUE(muxer.write_sample(audio_sample(t, filler(200)), out));
    }
  }
  const auto packets = parse_ts(out);
  std::optional<uint8_t> last[0x2000];
  size_t counts[0x2000] = {};
  for (const TsPacket& packet : packets) {
    auto& previous = last[packet.pid];
    const int expected = previous ? (*previous + 1) % 16 : 0;
    EXPECT_EQ(packet.continuity_counter, expected) << packet.pid;
    previous = packet.continuity_counter;
    ++counts[packet.pid];
  }
  EXPECT_EQ(counts[kTsPatPid], 17u) << "PAT/PMT counters wrap too";
  EXPECT_EQ(counts[kTsPmtPid], 17u);
  EXPECT_EQ(counts[kTsVideoPid], 17u * 5 * 3) << "keyframes carry SPS/PPS too, still 3 packets";
  EXPECT_EQ(counts[kTsAudioPid], 17u * 5 * 2);
}

TEST(TsMuxerPackets, PcrAndRandomAccessPlacement) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  const Bytes big_nal = concat({bytes({0x65}), filler(400)});
  ASSERT_TRUE(muxer.write_sample(video_sample(1000, 80, true, avcc({big_nal})), out));
  ASSERT_TRUE(muxer.write_sample(audio_sample(1000, filler(400)), out));
  ASSERT_TRUE(muxer.write_sample(video_sample(1040, 0, false, avcc({big_nal})), out));
  const auto packets = parse_ts(out);
  std::vector<std::optional<uint64_t>> video_pcrs;
  std::vector<bool> video_rai;
  for (const TsPacket& packet : packets) {
    if (packet.pid == kTsAudioPid) {
      EXPECT_FALSE(pcr_of(packet)) << "PCR only on the PCR_PID";
      EXPECT_FALSE(random_access(packet)) << "audio RAI only without video";
    } else {
      video_pcrs.push_back(pcr_of(packet));
      video_rai.push_back(random_access(packet));
    }
  }
  ASSERT_EQ(video_pcrs.size(), 6u);
  EXPECT_EQ(video_pcrs[0], 1000u * 90 * 300) << "PCR = DTS of the PES";
  EXPECT_TRUE(video_rai[0]);
  EXPECT_FALSE(video_pcrs[1]);
  EXPECT_FALSE(video_pcrs[2]);
  EXPECT_EQ(video_pcrs[3], 1040u * 90 * 300);
  EXPECT_FALSE(video_rai[3]) << "not a keyframe";
  for (size_t i : {1, 2, 4, 5}) EXPECT_FALSE(video_rai[i]);
}

TEST(TsMuxerPackets, AudioOnlyCarriesPcrAndRandomAccess) {
  TsMuxer muxer(tracks(std::nullopt, aac_track()));
  Bytes out;
  muxer.write_tables(out);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(muxer.write_sample(audio_sample(i * 23, filler(300)), out));
  }
  const auto packets = parse_ts(out);
  int pes = 0;
  for (const TsPacket& packet : packets) {
    if (packet.pid != kTsAudioPid) continue;
    if (packet.unit_start) {
      EXPECT_EQ(pcr_of(packet), uint64_t(pes * 23) * 90 * 300);
      EXPECT_TRUE(random_access(packet));
      ++pes;
    } else {
      EXPECT_FALSE(pcr_of(packet));
      EXPECT_FALSE(random_access(packet));
    }
  }
  EXPECT_EQ(pes, 3);
}

TEST(TsMuxerPackets, AllPacketsAligned) {
  TsMuxer muxer(tracks(h264_track(), aac_track()));
  Bytes out;
  muxer.write_tables(out);
  for (int i = 0; i < 50; ++i) {
    const Bytes nal =
        concat({bytes({i % 25 == 0 ? 0x65 : 0x41}), filler(static_cast<size_t>(i * 37))});
    ASSERT_TRUE(
        muxer.write_sample(video_sample(i * 40, (i % 3) * 40, i % 25 == 0, avcc({nal})), out));
    ASSERT_TRUE(
        muxer.write_sample(audio_sample(i * 40, filler(static_cast<size_t>(i * 11 + 1))), out));
    ASSERT_EQ(out.size() % kTsPacketSize, 0u);
  }
  for (size_t at = 0; at < out.size(); at += kTsPacketSize) ASSERT_EQ(out[at], kTsSyncByte);
  const auto packets = parse_ts(out);
  EXPECT_EQ(pes_of(packets, kTsVideoPid).size(), 50u);
  EXPECT_EQ(pes_of(packets, kTsAudioPid).size(), 50u);
}

// ---------------------------------------------------------------------------
// Interop: real encoder output (FFmpeg -> FLV -> FlvDemuxer) through the
// muxer, then FFmpeg's TS demuxer and decoders. Skipped without ffmpeg/ffprobe.

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  result.status = pclose(pipe);
  return result;
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::filesystem::path& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

struct Demuxed {
  TrackSet tracks;
  std::vector<AvSample> samples;  // in file order
};

// Strips the FLV tag headers the way av_sample_from_frame does, using the
// codec config parsers directly.
Demuxed demux_flv(const Bytes& file) {
  Demuxed demuxed;
  flv::FlvDemuxer demuxer;
  const Result<size_t> consumed = demuxer.feed(file);
  EXPECT_TRUE(consumed.ok() && *consumed == file.size()) << "whole file demuxed";
  while (std::optional<flv::FlvTag> tag = demuxer.next_tag()) {
    const std::span<const uint8_t> body = tag->body.span();
    if (tag->type == flv::kTagVideo) {
      const Result<flv::VideoTagInfo> info = flv::parse_video_tag(body);
      if (!info.ok() || info->codec != flv::VideoCodec::kH264) continue;
      const SharedBytes data = tag->body.slice(info->header_size, body.size() - info->header_size);
      if (info->packet == flv::VideoPacket::kSequenceStart) {
        const Result<AvcConfig> config = parse_avc_decoder_config(data.span());
        EXPECT_TRUE(config.ok());
        if (!config.ok()) continue;
        VideoTrackConfig video = h264_track(config->nal_length_size);
        video.record = data;
        video.parameter_sets = config->sps;
        video.parameter_sets.insert(video.parameter_sets.end(), config->pps.begin(),
                                    config->pps.end());
        demuxed.tracks.video = video;
      } else if (info->packet == flv::VideoPacket::kCodedFrames && !data.empty()) {
        demuxed.samples.push_back(AvSample{TrackKind::kVideo, tag->timestamp_ms,
                                           info->composition_time_ms, info->keyframe(), data});
      }
    } else if (tag->type == flv::kTagAudio) {
      const Result<flv::AudioTagInfo> info = flv::parse_audio_tag(body);
      if (!info.ok()) continue;
      const SharedBytes data = tag->body.slice(info->header_size, body.size() - info->header_size);
      if (info->codec == flv::AudioCodec::kAac && info->sequence_header) {
        const Result<AacConfig> config = parse_aac_audio_specific_config(data.span());
        EXPECT_TRUE(config.ok());
        if (!config.ok()) continue;
        AudioTrackConfig& audio = demuxed.tracks.audio.emplace(aac_track());
        audio.specific_config = data;
        audio.aac_object_type = config->object_type;
        audio.sampling_frequency_index = config->sampling_frequency_index;
        audio.channel_configuration = config->channel_configuration;
        audio.sample_rate = config->sample_rate;
        continue;
      }
      if (info->codec != flv::AudioCodec::kAac && info->codec != flv::AudioCodec::kMp3) continue;
      if (data.size() < 4) continue;
      if (info->codec == flv::AudioCodec::kMp3 && !demuxed.tracks.audio) {
        // ISO/IEC 11172-3 2.4.1.3: ID bits; MPEG-2.5 is '00'.
        const int id = data[1] >> 3 & 0x03;
        demuxed.tracks.audio = mp3_track(id == 3 ? 1 : id == 2 ? 2 : 25);
      }
      demuxed.samples.push_back(AvSample{TrackKind::kAudio, tag->timestamp_ms, 0, true, data});
    }
  }
  return demuxed;
}

struct ProbedPacket {
  std::string codec_type;
  int64_t pts = 0;
  int64_t dts = 0;
  bool key = false;
};

std::vector<ProbedPacket> probe_packets(const std::filesystem::path& ts) {
  const CommandResult probe =
      run_command("ffprobe -v error -show_entries packet=codec_type,pts,dts,flags -of csv=p=0 '" +
                  ts.string() + "'");
  EXPECT_EQ(probe.status, 0) << probe.output;
  std::vector<ProbedPacket> packets;
  std::istringstream lines(probe.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;  // side-data sections print empty lines
    // "video,7200,0,K_,": codec_type, pts, dts, flags.
    std::istringstream fields(line);
    std::string field[4];
    for (std::string& f : field) std::getline(fields, f, ',');
    packets.push_back({field[0], std::stoll(field[1]), std::stoll(field[2]),
                       field[3].find('K') != std::string::npos});
  }
  return packets;
}

struct InteropCase {
  const char* name;
  const char* ffmpeg_args;  // inputs and encoders, before "-f flv <file>"
  const char* codecs;       // ffprobe stream codec_name lines, in PMT order
  uint8_t audio_stream_type;
};

class TsMuxerInterop : public ::testing::TestWithParam<InteropCase> {};

TEST_P(TsMuxerInterop, FfmpegDecodesSegmentsWithoutErrors) {
  if (run_command("command -v ffmpeg && command -v ffprobe").status != 0) {
    GTEST_SKIP() << "ffmpeg/ffprobe not on PATH";
  }
  const InteropCase& c = GetParam();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("cascade_ts_" + std::to_string(::getpid()) + "_" + c.name);
  std::filesystem::create_directories(dir);
  const std::filesystem::path flv_path = dir / "in.flv";
  const CommandResult encode = run_command(std::string("ffmpeg -nostdin -v error -y ") +
                                           c.ffmpeg_args + " -f flv '" + flv_path.string() + "'");
  ASSERT_EQ(encode.status, 0) << encode.output;

  const Demuxed demuxed = demux_flv(read_file(flv_path));
  ASSERT_FALSE(demuxed.samples.empty());
  const bool has_video = demuxed.tracks.video.has_value();
  TsMuxer muxer(demuxed.tracks);

  // HLS-style segments: a new one at every video keyframe (audio only:
  // every 40 frames), each starting with PAT/PMT.
  std::vector<Bytes> segments;
  size_t audio_frames = 0;
  std::vector<const AvSample*> video_samples, audio_samples;
  for (const AvSample& sample : demuxed.samples) {
    const bool cut = has_video ? (sample.kind == TrackKind::kVideo && sample.keyframe)
                               : audio_frames++ % 40 == 0;
    if (cut || segments.empty()) {
      segments.emplace_back();
      muxer.write_tables(segments.back());
    }
    ASSERT_TRUE(muxer.write_sample(sample, segments.back()));
    (sample.kind == TrackKind::kVideo ? video_samples : audio_samples).push_back(&sample);
  }
  ASSERT_GE(segments.size(), 2u);
  Bytes all;
  for (size_t i = 0; i < segments.size(); ++i) {
    all.insert(all.end(), segments[i].begin(), segments[i].end());
    write_file(dir / ("segment" + std::to_string(i) + ".ts"), segments[i]);
  }
  const std::filesystem::path ts_path = dir / "all.ts";
  write_file(ts_path, all);

  // Demux and decode everything: no warnings or errors at all.
  const CommandResult decode =
      run_command("ffmpeg -nostdin -v warning -i '" + ts_path.string() + "' -f null -");
  EXPECT_EQ(decode.status, 0);
  EXPECT_EQ(decode.output, "");
  // A segment from the middle decodes on its own.
  const std::filesystem::path middle =
      dir / ("segment" + std::to_string(segments.size() / 2) + ".ts");
  const CommandResult decode_one =
      run_command("ffmpeg -nostdin -v warning -i '" + middle.string() + "' -f null -");
  EXPECT_EQ(decode_one.status, 0);
  EXPECT_EQ(decode_one.output, "");

  const CommandResult streams = run_command(
      "ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" + ts_path.string() + "'");
  // The program's stream list comes first, then the streams section.
  EXPECT_TRUE(streams.output.ends_with(std::string("\n") + c.codecs)) << streams.output;

  // Every sample comes back as one packet with its timestamps (90 kHz).
  std::vector<ProbedPacket> video_packets, audio_packets;
  for (const ProbedPacket& packet : probe_packets(ts_path)) {
    (packet.codec_type == "video" ? video_packets : audio_packets).push_back(packet);
  }
  ASSERT_EQ(video_packets.size(), video_samples.size());
  ASSERT_EQ(audio_packets.size(), audio_samples.size());
  bool reordered = false;
  for (size_t i = 0; i < video_packets.size(); ++i) {
    const AvSample& sample = *video_samples[i];
    EXPECT_EQ(video_packets[i].dts, sample.dts * 90) << i;
    EXPECT_EQ(video_packets[i].pts, (sample.dts + sample.cts_ms) * 90) << i;
    EXPECT_EQ(video_packets[i].key, sample.keyframe) << i;
    reordered |= sample.cts_ms > 0;
  }
  EXPECT_EQ(reordered, std::string(c.name).ends_with("bframes"));
  for (size_t i = 0; i < audio_packets.size(); ++i) {
    EXPECT_EQ(audio_packets[i].pts, audio_samples[i]->dts * 90) << i;
    EXPECT_EQ(audio_packets[i].dts, audio_samples[i]->dts * 90) << i;
  }
  // The PMT's audio stream_type, as FFmpeg writes it for the same codec.
  const Bytes pmt(segments[0].begin() + 188, segments[0].begin() + 376);
  const Bytes section = section_of(pmt);
  const size_t audio_entry = section.size() - 4 - 5;
  EXPECT_EQ(section[audio_entry], c.audio_stream_type);

  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept on failure, for inspection
}

INSTANTIATE_TEST_SUITE_P(
    Ffmpeg, TsMuxerInterop,
    ::testing::Values(
        InteropCase{"h264_aac_bframes",
                    "-f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=sample_rate=44100 "
                    "-t 4 -c:v libx264 -g 25 -bf 2 -c:a aac",
                    "h264\naac\n", kTsStreamTypeAdtsAac},
        InteropCase{"h264_mp3",
                    "-f lavfi -i testsrc=size=160x120:rate=30 -f lavfi -i sine=sample_rate=44100 "
                    "-t 3 -c:v libx264 -g 30 -bf 0 -c:a libmp3lame",
                    "h264\nmp3\n", kTsStreamTypeMpeg1Audio},
        InteropCase{"aac_only", "-f lavfi -i sine=sample_rate=48000 -t 3 -c:a aac", "aac\n",
                    kTsStreamTypeAdtsAac},
        InteropCase{"mp3_22khz_only", "-f lavfi -i sine=sample_rate=22050 -t 3 -c:a libmp3lame",
                    "mp3\n", kTsStreamTypeMpeg2Audio}),
    [](const ::testing::TestParamInfo<InteropCase>& param) {
      return std::string(param.param.name);
    });

}  // namespace
}  // namespace cascade::media
