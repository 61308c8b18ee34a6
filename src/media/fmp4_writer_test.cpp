#include "media/fmp4_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_order.h"
#include "media/aac_config.h"
#include "media/avc_config.h"
#include "media/flv.h"
#include "media/mp4_box_writer.h"
#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::bytes;
using testing::Bytes;

// ---------------------------------------------------------------------------
// A minimal ISO BMFF box walker (independent of the writer) to assert the
// box tree and read fields.

struct Box {
  uint32_t type = 0;
  size_t offset = 0;              // from the start of the walked buffer
  std::span<const uint8_t> data;  // the whole box, header included

  std::span<const uint8_t> payload() const { return data.subspan(8); }
  uint8_t version() const { return data[8]; }
  uint32_t flags() const { return load_u24be(data.data() + 9); }
  // Big-endian fields at `at` bytes into the box (header included).
  uint16_t u16(size_t at) const { return load_u16be(data.data() + at); }
  uint32_t u32(size_t at) const { return load_u32be(data.data() + at); }
  uint64_t u64(size_t at) const { return uint64_t{u32(at)} << 32 | u32(at + 4); }
};

std::string type_name(uint32_t type) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(type >> (24 - 8 * i));
  return s;
}

// Bytes before the first child box of a container, or -1 for a leaf box:
// plain containers 0; dref/stsd a FullBox header and entry_count; sample
// entries their fixed fields (14496-12 12.1.3: 78, 12.2.3: 28).
int children_start(uint32_t type) {
  switch (type) {
    case box_type("moov"):
    case box_type("trak"):
    case box_type("mdia"):
    case box_type("minf"):
    case box_type("dinf"):
    case box_type("stbl"):
    case box_type("mvex"):
    case box_type("moof"):
    case box_type("traf"):
      return 8;
    case box_type("dref"):
    case box_type("stsd"):
      return 16;
    case box_type("avc1"):
    case box_type("hvc1"):
      return 8 + 78;
    case box_type("mp4a"):
      return 8 + 28;
    default:
      return -1;
  }
}

// The boxes that exactly tile `data`; a box overrunning its parent fails.
std::vector<Box> parse_boxes(std::span<const uint8_t> data, size_t base = 0) {
  std::vector<Box> boxes;
  size_t at = 0;
  while (at < data.size()) {
    EXPECT_GE(data.size() - at, 8u) << "truncated box header at " << base + at;
    if (data.size() - at < 8) break;
    const uint32_t size = load_u32be(data.data() + at);
    EXPECT_GE(size, 8u);
    EXPECT_LE(size, data.size() - at) << "box overruns its parent at " << base + at;
    if (size < 8 || size > data.size() - at) break;
    boxes.push_back({load_u32be(data.data() + at + 4), base + at, data.subspan(at, size)});
    at += size;
  }
  return boxes;
}

std::vector<Box> children(const Box& box) {
  const int start = children_start(box.type);
  EXPECT_GE(start, 0) << type_name(box.type) << " is not a container";
  if (start < 0) return {};
  return parse_boxes(box.data.subspan(start), box.offset + start);
}

// The tree as text: "ftyp moov[mvhd trak[...]]".
std::string tree(std::span<const uint8_t> data, size_t base = 0) {
  std::string out;
  for (const Box& box : parse_boxes(data, base)) {
    if (!out.empty()) out += ' ';
    out += type_name(box.type);
    const int start = children_start(box.type);
    if (start >= 0) {
      out += '[' + tree(box.data.subspan(start), box.offset + start) + ']';
    }
  }
  return out;
}

// The n-th box of `type` among `boxes`; fails the test if absent.
Box find(const std::vector<Box>& boxes, const char (&type)[5], int n = 0) {
  for (const Box& box : boxes) {
    if (box.type == box_type(type) && n-- == 0) return box;
  }
  ADD_FAILURE() << "no box " << type;
  // Large enough that field reads of a missing box stay in bounds.
  static const uint8_t kEmpty[512] = {};
  return {0, 0, kEmpty};
}

// Follows a path of box types from the top level: path({"moov", "trak"}).
Box path(std::span<const uint8_t> data, std::initializer_list<const char*> types,
         int last_index = 0) {
  std::vector<Box> level = parse_boxes(data);
  Box box;
  size_t i = 0;
  for (const char* t : types) {
    char name[5] = {t[0], t[1], t[2], t[3], 0};
    const bool last = ++i == types.size();
    box = find(level, name, last ? last_index : 0);
    if (!last) level = children(box);
  }
  return box;
}

// ---------------------------------------------------------------------------
// Inputs

// A minimal AVCDecoderConfigurationRecord (14496-15 5.3.3.1): version 1,
// Baseline@3.0, lengthSizeMinusOne 3, no SPS/PPS (the writer copies it
// verbatim, so its content does not matter here).
const Bytes kAvcRecord = bytes({0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe0, 0x00});
// AudioSpecificConfig: AAC LC, 44100 Hz (index 4), 2 channels.
const Bytes kAsc = bytes({0x12, 0x10});

VideoTrackConfig h264_track() {
  VideoTrackConfig video;
  video.codec = VideoCodecId::kH264;
  video.record = SharedBytes::copy_of(kAvcRecord);
  video.width = 320;
  video.height = 240;
  return video;
}

AudioTrackConfig aac_track() {
  AudioTrackConfig audio;
  audio.codec = AudioCodecId::kAac;
  audio.specific_config = SharedBytes::copy_of(kAsc);
  audio.sample_rate = 44100;
  audio.channels = 2;
  audio.samples_per_frame = 1024;
  return audio;
}

AudioTrackConfig mp3_track(uint32_t sample_rate, uint8_t version) {
  AudioTrackConfig audio;
  audio.codec = AudioCodecId::kMp3;
  audio.sample_rate = sample_rate;
  audio.channels = 2;
  audio.samples_per_frame = version == 1 ? 1152 : 576;
  audio.mpeg_audio_version = version;
  return audio;
}

AvSample video_sample(MediaTimeMs dts, int32_t cts_ms, bool keyframe, const Bytes& data) {
  return {TrackKind::kVideo, dts, cts_ms, keyframe, SharedBytes::copy_of(data)};
}

AvSample audio_sample(MediaTimeMs dts, const Bytes& data) {
  return {TrackKind::kAudio, dts, 0, true, SharedBytes::copy_of(data)};
}

// Fmp4FragmentInput built field by field: g++ 12 warns
// (-Wmissing-field-initializers) on designated initializers that omit members.
Fmp4FragmentInput fragment_input(std::span<const AvSample> video, MediaTimeMs video_end_dts,
                                 std::span<const AvSample> audio, uint32_t sequence_number = 1) {
  Fmp4FragmentInput input;
  input.sequence_number = sequence_number;
  input.video = video;
  input.video_end_dts = video_end_dts;
  input.audio = audio;
  return input;
}

Fmp4FragmentInput video_input(std::span<const AvSample> video, MediaTimeMs video_end_dts) {
  return fragment_input(video, video_end_dts, {});
}

Fmp4FragmentInput audio_input(std::span<const AvSample> audio) {
  return fragment_input({}, 0, audio);
}

std::string hex(std::span<const uint8_t> data) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < data.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", data[i]);
    out += buf;
    out += (i % 16 == 15) ? '\n' : ' ';
  }
  return out;
}

// ---------------------------------------------------------------------------
// Golden-building helpers: fields are listed in spec order; box() and
// full_box() prepend the 32-bit size and the type (14496-12 4.2).

Bytes u16(uint32_t v) {
  return bytes({int(v >> 8 & 0xff), int(v & 0xff)});
}
Bytes u32(uint32_t v) {
  return testing::concat({u16(v >> 16), u16(v & 0xffff)});
}
Bytes zeros(size_t n) {
  return Bytes(n, 0);
}
Bytes fourcc(const char (&type)[5]) {
  return u32(box_type(type));
}

Bytes box(const char (&type)[5], std::initializer_list<Bytes> fields) {
  Bytes body;
  for (const Bytes& f : fields) body.insert(body.end(), f.begin(), f.end());
  return testing::concat({u32(static_cast<uint32_t>(8 + body.size())), fourcc(type), body});
}

Bytes full_box(const char (&type)[5], uint8_t version, uint32_t flags,
               std::initializer_list<Bytes> fields) {
  Bytes body = u32(uint32_t{version} << 24 | flags);
  for (const Bytes& f : fields) body.insert(body.end(), f.begin(), f.end());
  return box(type, {body});
}

// 14496-12 6.2.2: the unity matrix.
const Bytes kMatrix = testing::concat({u32(0x00010000), u32(0), u32(0), u32(0), u32(0x00010000),
                                       u32(0), u32(0), u32(0), u32(0x40000000)});

// 14496-1 7.2.6.5-7.2.6.8 for kAsc, hand-assembled.
const Bytes kAacEsds = bytes({
    0x03, 0x19,              // ES_Descriptor, 25 bytes
    0x00, 0x00, 0x00,        // ES_ID 0, flags 0
    0x04, 0x11,              // DecoderConfigDescriptor, 17 bytes
    0x40,                    // objectTypeIndication: 14496-3 audio
    0x15,                    // streamType 5 (audio) << 2 | upStream 0 | reserved 1
    0x00, 0x00, 0x00,        // bufferSizeDB
    0x00, 0x00, 0x00, 0x00,  // maxBitrate
    0x00, 0x00, 0x00, 0x00,  // avgBitrate
    0x05, 0x02, 0x12, 0x10,  // DecoderSpecificInfo: the AudioSpecificConfig
    0x06, 0x01, 0x02,        // SLConfigDescriptor, predefined 2
});

// tkhd (8.3.2) v0, flags enabled | in_movie, durations 0.
Bytes golden_tkhd(uint32_t track_id, uint16_t volume, uint32_t width, uint32_t height) {
  return full_box("tkhd", 0, 3,
                  {u32(0), u32(0), u32(track_id), u32(0), u32(0), zeros(8), u16(0), u16(0),
                   u16(volume), u16(0), kMatrix, u32(width << 16), u32(height << 16)});
}

// mdhd (8.4.2) v0, language 'und' = 0x55c4 (0b0'10101'01110'00100).
Bytes golden_mdhd(uint32_t timescale) {
  return full_box("mdhd", 0, 0, {u32(0), u32(0), u32(timescale), u32(0), u16(0x55c4), u16(0)});
}

Bytes golden_hdlr(const char (&handler)[5], std::string_view name) {
  return full_box("hdlr", 0, 0,
                  {u32(0), fourcc(handler), zeros(12), testing::text(name), bytes({0})});
}

// dinf (8.7.1) with one self-contained 'url ' (flags 1).
Bytes golden_dinf() {
  return box("dinf", {full_box("dref", 0, 0, {u32(1), full_box("url ", 0, 1, {})})});
}

// stbl (8.5.1): one sample entry, then empty stts, stsc, stsz, stco.
Bytes golden_stbl(const Bytes& sample_entry) {
  return box("stbl", {full_box("stsd", 0, 0, {u32(1), sample_entry}),
                      full_box("stts", 0, 0, {u32(0)}), full_box("stsc", 0, 0, {u32(0)}),
                      full_box("stsz", 0, 0, {u32(0), u32(0)}), full_box("stco", 0, 0, {u32(0)})});
}

Bytes golden_trex(uint32_t track_id) {
  return full_box("trex", 0, 0, {u32(track_id), u32(1), u32(0), u32(0), u32(0)});
}

TEST(Fmp4Init, GoldenVideoAudio) {
  const Bytes expected = testing::concat({
      box("ftyp",
          {fourcc("iso6"), u32(0), fourcc("iso6"), fourcc("iso5"), fourcc("cmfc"), fourcc("mp41")}),
      box("moov",
          {
              // mvhd (8.2.2) v0: times 0, timescale 1000, duration 0, rate 1.0,
              // volume 1.0, reserved, matrix, pre_defined, next_track_ID 3.
              full_box("mvhd", 0, 0,
                       {u32(0), u32(0), u32(1000), u32(0), u32(0x00010000), u16(0x0100), zeros(10),
                        kMatrix, zeros(24), u32(3)}),
              box("trak",
                  {golden_tkhd(1, 0, 320, 240),
                   box("mdia",
                       {golden_mdhd(90000), golden_hdlr("vide", "VideoHandler"),
                        box("minf",
                            {full_box("vmhd", 0, 1, {u16(0), zeros(6)}), golden_dinf(),
                             // avc1 (14496-12 12.1.3, 14496-15 5.4.2): reserved,
                             // data_reference_index 1, pre_defined/reserved, 320x240,
                             // 72 dpi x2, reserved, frame_count 1, compressorname,
                             // depth 0x18, pre_defined -1, then avcC.
                             golden_stbl(box(
                                 "avc1",
                                 {zeros(6), u16(1), u16(0), u16(0), zeros(12), u16(320), u16(240),
                                  u32(0x00480000), u32(0x00480000), u32(0), u16(1), zeros(32),
                                  u16(0x0018), u16(0xffff), box("avcC", {kAvcRecord})}))})})}),
              box("trak",
                  {golden_tkhd(2, 0x0100, 0, 0),
                   box("mdia",
                       {golden_mdhd(44100), golden_hdlr("soun", "SoundHandler"),
                        box("minf",
                            {full_box("smhd", 0, 0, {u16(0), u16(0)}), golden_dinf(),
                             // mp4a (14496-12 12.2.3, 14496-14 5.6): reserved,
                             // data_reference_index 1, reserved, channelcount 2,
                             // samplesize 16, pre_defined, reserved, 44100 in 16.16.
                             golden_stbl(box("mp4a", {zeros(6), u16(1), zeros(8), u16(2), u16(16),
                                                      u16(0), u16(0), u32(44100u << 16),
                                                      full_box("esds", 0, 0, {kAacEsds})}))})})}),
              box("mvex", {golden_trex(1), golden_trex(2)}),
          }),
  });
  const SharedBytes init = write_fmp4_init_segment({h264_track(), aac_track()});
  EXPECT_EQ(hex(init.span()), hex(expected));
  EXPECT_EQ(init.size(), 1074u);
}

// ---------------------------------------------------------------------------
// Init segment

TEST(Fmp4Init, VideoAudioTree) {
  const SharedBytes init = write_fmp4_init_segment({h264_track(), aac_track()});
  EXPECT_EQ(tree(init.span()),
            "ftyp moov[mvhd "
            "trak[tkhd mdia[mdhd hdlr minf[vmhd dinf[dref[url ]] "
            "stbl[stsd[avc1[avcC]] stts stsc stsz stco]]]] "
            "trak[tkhd mdia[mdhd hdlr minf[smhd dinf[dref[url ]] "
            "stbl[stsd[mp4a[esds]] stts stsc stsz stco]]]] "
            "mvex[trex trex]]");
}

TEST(Fmp4Init, VideoAudioFields) {
  const SharedBytes init = write_fmp4_init_segment({h264_track(), aac_track()});
  const auto data = init.span();

  const Box ftyp = path(data, {"ftyp"});
  EXPECT_EQ(ftyp.u32(8), box_type("iso6"));
  EXPECT_EQ(ftyp.u32(12), 0u);
  EXPECT_EQ(ftyp.data.size(), 16u + 4 * 4);

  const Box mvhd = path(data, {"moov", "mvhd"});
  EXPECT_EQ(mvhd.version(), 0);
  EXPECT_EQ(mvhd.u32(20), 1000u);  // timescale
  EXPECT_EQ(mvhd.u32(24), 0u);     // duration
  EXPECT_EQ(mvhd.u32(104), 3u);    // next_track_ID

  // Video trak.
  const Box tkhd_v = path(data, {"moov", "trak", "tkhd"});
  EXPECT_EQ(tkhd_v.flags(), 3u);
  EXPECT_EQ(tkhd_v.u32(20), 1u);          // track_ID
  EXPECT_EQ(tkhd_v.u16(44), 0u);          // volume
  EXPECT_EQ(tkhd_v.u32(84), 320u << 16);  // width
  EXPECT_EQ(tkhd_v.u32(88), 240u << 16);  // height
  const Box mdhd_v = path(data, {"moov", "trak", "mdia", "mdhd"});
  EXPECT_EQ(mdhd_v.u32(20), 90000u);
  EXPECT_EQ(mdhd_v.u16(28), 0x55c4u);  // 'und'
  const Box hdlr_v = path(data, {"moov", "trak", "mdia", "hdlr"});
  EXPECT_EQ(hdlr_v.u32(16), box_type("vide"));
  EXPECT_EQ(path(data, {"moov", "trak", "mdia", "minf", "vmhd"}).flags(), 1u);
  EXPECT_EQ(path(data, {"moov", "trak", "mdia", "minf", "dinf", "dref", "url "}).flags(), 1u);
  const Box avc1 = path(data, {"moov", "trak", "mdia", "minf", "stbl", "stsd", "avc1"});
  EXPECT_EQ(avc1.u16(14), 1u);           // data_reference_index
  EXPECT_EQ(avc1.u16(32), 320u);         // width
  EXPECT_EQ(avc1.u16(34), 240u);         // height
  EXPECT_EQ(avc1.u32(36), 0x00480000u);  // horizresolution
  EXPECT_EQ(avc1.u32(40), 0x00480000u);  // vertresolution
  EXPECT_EQ(avc1.u16(48), 1u);           // frame_count
  EXPECT_EQ(avc1.u16(82), 0x0018u);      // depth
  EXPECT_EQ(avc1.u16(84), 0xffffu);      // pre_defined -1
  const Box avcc = find(children(avc1), "avcC");
  EXPECT_EQ(Bytes(avcc.payload().begin(), avcc.payload().end()), kAvcRecord);

  // Audio trak.
  const Box tkhd_a = find(children(path(data, {"moov", "trak"}, 1)), "tkhd");
  EXPECT_EQ(tkhd_a.u32(20), 2u);
  EXPECT_EQ(tkhd_a.u16(44), 0x0100u);
  EXPECT_EQ(tkhd_a.u32(84), 0u);
  const std::vector<Box> trak_a = children(path(data, {"moov", "trak"}, 1));
  const std::vector<Box> mdia_a = children(find(trak_a, "mdia"));
  EXPECT_EQ(find(mdia_a, "mdhd").u32(20), 44100u);
  EXPECT_EQ(find(mdia_a, "hdlr").u32(16), box_type("soun"));
  const Box stbl_a = find(children(find(mdia_a, "minf")), "stbl");
  const Box mp4a = find(children(find(children(stbl_a), "stsd")), "mp4a");
  EXPECT_EQ(mp4a.type, box_type("mp4a"));
  EXPECT_EQ(mp4a.u16(24), 2u);            // channelcount
  EXPECT_EQ(mp4a.u16(26), 16u);           // samplesize
  EXPECT_EQ(mp4a.u32(32), 44100u << 16);  // samplerate 16.16

  // Empty sample tables: every entry count 0.
  for (const Box& box : children(stbl_a)) {
    if (box.type == box_type("stsd")) continue;
    EXPECT_EQ(box.u32(12), 0u) << type_name(box.type);
    if (box.type == box_type("stsz")) {
      EXPECT_EQ(box.u32(16), 0u);
    }
  }

  const Box trex_v = path(data, {"moov", "mvex", "trex"});
  EXPECT_EQ(trex_v.u32(12), 1u);  // track_ID
  EXPECT_EQ(trex_v.u32(16), 1u);  // default_sample_description_index
  EXPECT_EQ(path(data, {"moov", "mvex", "trex"}, 1).u32(12), 2u);
}

TEST(Fmp4Init, AudioOnlyIsTrackOne) {
  const SharedBytes init = write_fmp4_init_segment({std::nullopt, aac_track()});
  const auto data = init.span();
  EXPECT_EQ(tree(data),
            "ftyp moov[mvhd trak[tkhd mdia[mdhd hdlr minf[smhd dinf[dref[url ]] "
            "stbl[stsd[mp4a[esds]] stts stsc stsz stco]]]] mvex[trex]]");
  EXPECT_EQ(path(data, {"moov", "mvhd"}).u32(104), 2u);
  EXPECT_EQ(path(data, {"moov", "trak", "tkhd"}).u32(20), 1u);
  EXPECT_EQ(path(data, {"moov", "mvex", "trex"}).u32(12), 1u);
  EXPECT_EQ(fmp4_audio_track_id({std::nullopt, aac_track()}), 1u);
}

TEST(Fmp4Init, VideoOnly) {
  const SharedBytes init = write_fmp4_init_segment({h264_track(), std::nullopt});
  const auto data = init.span();
  EXPECT_EQ(tree(data),
            "ftyp moov[mvhd trak[tkhd mdia[mdhd hdlr minf[vmhd dinf[dref[url ]] "
            "stbl[stsd[avc1[avcC]] stts stsc stsz stco]]]] mvex[trex]]");
  EXPECT_EQ(path(data, {"moov", "mvhd"}).u32(104), 2u);
  EXPECT_EQ(path(data, {"moov", "mvex", "trex"}).u32(12), 1u);
}

TEST(Fmp4Init, NoTracksIsEmpty) {
  EXPECT_TRUE(write_fmp4_init_segment({}).empty());
}

TEST(Fmp4Init, HevcSampleEntry) {
  VideoTrackConfig hevc;
  hevc.codec = VideoCodecId::kHevc;
  // Any bytes: the record is copied verbatim into hvcC.
  const Bytes record =
      bytes({0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00,
             0x5d, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x00});
  hevc.record = SharedBytes::copy_of(record);
  hevc.width = 1920;
  hevc.height = 1080;
  const SharedBytes init = write_fmp4_init_segment({hevc, std::nullopt});
  const auto data = init.span();
  const Box stsd = path(data, {"moov", "trak", "mdia", "minf", "stbl", "stsd"});
  EXPECT_EQ(tree(stsd.data.subspan(16)), "hvc1[hvcC]");
  const Box hvc1 = find(children(stsd), "hvc1");
  EXPECT_EQ(hvc1.u16(32), 1920u);
  EXPECT_EQ(hvc1.u16(34), 1080u);
  const Box hvcc = find(children(hvc1), "hvcC");
  EXPECT_EQ(Bytes(hvcc.payload().begin(), hvcc.payload().end()), record);
  EXPECT_EQ(path(data, {"moov", "trak", "tkhd"}).u32(84), 1920u << 16);
}

// The esds payload (after the FullBox header) of the only audio track.
Bytes esds_of(const AudioTrackConfig& audio) {
  const SharedBytes init = write_fmp4_init_segment({std::nullopt, audio});
  const Box stsd = path(init.span(), {"moov", "trak", "mdia", "minf", "stbl", "stsd"});
  const Box mp4a = find(children(stsd), "mp4a");
  const Box esds = find(children(mp4a), "esds");
  EXPECT_EQ(esds.type, box_type("esds"));
  EXPECT_EQ(esds.u32(8), 0u);  // version 0, flags 0
  return Bytes(esds.data.begin() + 12, esds.data.end());
}

TEST(Fmp4Init, AacEsdsGolden) {
  EXPECT_EQ(esds_of(aac_track()), kAacEsds);
}

TEST(Fmp4Init, LongDescriptorSizesUseExpandableEncoding) {
  // 14496-1 8.3.3: sizes past 127 take more than one byte, 7 bits each.
  AudioTrackConfig audio = aac_track();
  Bytes asc(200, 0xAB);
  asc[0] = 0x12;
  audio.specific_config = SharedBytes::copy_of(asc);
  const Bytes esds = esds_of(audio);
  // ES payload 3 + (1+2+13+1+2+200) + 3 = 225 = 0x81 0x61.
  EXPECT_EQ(Bytes(esds.begin(), esds.begin() + 3), bytes({0x03, 0x81, 0x61}));
  // DecoderConfigDescriptor payload 13 + 203 = 216 = 0x81 0x58.
  EXPECT_EQ(Bytes(esds.begin() + 6, esds.begin() + 9), bytes({0x04, 0x81, 0x58}));
  // DecoderSpecificInfo 200 = 0x81 0x48.
  EXPECT_EQ(Bytes(esds.begin() + 22, esds.begin() + 25), bytes({0x05, 0x81, 0x48}));
  EXPECT_EQ(esds.size(), 3u + 225);
}

TEST(Fmp4Init, Mp3Esds) {
  // MPEG-1 Layer III: objectTypeIndication 0x6B, no DecoderSpecificInfo.
  EXPECT_EQ(esds_of(mp3_track(44100, 1)),
            bytes({0x03, 0x15, 0x00, 0x00, 0x00,                    // ES_Descriptor, 21 bytes
                   0x04, 0x0d, 0x6b, 0x15, 0x00, 0x00, 0x00,        // DecoderConfig, 13 bytes
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // bitrates
                   0x06, 0x01, 0x02}));                             // SLConfig
  // MPEG-2 (and 2.5) Layer III: 0x69.
  EXPECT_EQ(esds_of(mp3_track(22050, 2))[7], 0x69);
  EXPECT_EQ(esds_of(mp3_track(11025, 25))[7], 0x69);
}

TEST(Fmp4Init, SampleRateAbove16BitsIsZeroInSampleEntry) {
  AudioTrackConfig audio = aac_track();
  audio.sample_rate = 96000;
  const SharedBytes init = write_fmp4_init_segment({std::nullopt, audio});
  const Box stsd = path(init.span(), {"moov", "trak", "mdia", "minf", "stbl", "stsd"});
  EXPECT_EQ(find(children(stsd), "mp4a").u32(32), 0u);
  // The timescale still carries the real rate.
  EXPECT_EQ(path(init.span(), {"moov", "trak", "mdia", "mdhd"}).u32(20), 96000u);
}

// ---------------------------------------------------------------------------
// Fragments

struct Traf {
  Box tfhd, tfdt, trun;
};

Traf traf_at(std::span<const uint8_t> fragment, int index) {
  const std::vector<Box> traf = children(path(fragment, {"moof", "traf"}, index));
  return {find(traf, "tfhd"), find(traf, "tfdt"), find(traf, "trun")};
}

// trun fields (14496-12 8.8.8) of sample i, given the trun flags.
struct TrunEntry {
  uint32_t duration, size, flags;
  int32_t composition_offset;
};

TrunEntry trun_entry(const Box& trun, size_t i) {
  const bool cts = trun.flags() & 0x800;
  const size_t stride = cts ? 16 : 12;
  const size_t at = 20 + i * stride;
  return {trun.u32(at), trun.u32(at + 4), trun.u32(at + 8),
          cts ? static_cast<int32_t>(trun.u32(at + 12)) : 0};
}

TEST(Fmp4Fragment, GoldenVideoAudio) {
  // Two video samples (I with cts 40 ms, P) and two AAC frames; hand-checked
  // against 14496-12 8.8.4-8.8.12 box by box.
  const std::vector<AvSample> video = {video_sample(40, 40, true, {0, 0, 0, 2, 0x65, 0x88}),
                                       video_sample(80, 0, false, {0, 0, 0, 1, 0x41})};
  const std::vector<AvSample> audio = {audio_sample(46, {0x21, 0x1a}),
                                       audio_sample(69, {0x21, 0x1b, 0x1c})};
  const Bytes expected = testing::concat({
      box("moof",
          {
              full_box("mfhd", 0, 0, {u32(3)}),  // sequence_number
              box("traf",
                  {
                      full_box("tfhd", 0, 0x020000, {u32(1)}),  // default-base-is-moof, track 1
                      full_box("tfdt", 1, 0, {u32(0), u32(40 * 90)}),  // 64-bit decode time
                      // trun v1: data-offset, duration, size, flags, composition offset;
                      // sample_count 2, data_offset 216.
                      full_box("trun", 1, 0x000f01,
                               {u32(2), u32(216),                               //
                                u32(3600), u32(6), u32(0x02000000), u32(3600),  // I, cts 40 ms
                                u32(3600), u32(5), u32(0x01010000), u32(0)}),   // P
                  }),
              box("traf",
                  {
                      full_box("tfhd", 0, 0x020000, {u32(2)}),
                      full_box("tfdt", 1, 0, {u32(0), u32(2029)}),
                      // trun: no composition offsets; data_offset 227.
                      full_box("trun", 1, 0x000701,
                               {u32(2), u32(227),                    //
                                u32(1024), u32(2), u32(0x02000000),  //
                                u32(1024), u32(3), u32(0x02000000)}),
                  }),
          }),
      box("mdat", {bytes({0, 0, 0, 2, 0x65, 0x88}), bytes({0, 0, 0, 1, 0x41}), bytes({0x21, 0x1a}),
                   bytes({0x21, 0x1b, 0x1c})}),
  });
  EXPECT_EQ(expected.size(), 208u + 24);
  // Checks by hand: moof = 8 + mfhd 16 + traf 96 + traf 88 = 208; video
  // data_offset = 208 + 8 (mdat header) = 216, audio 216 + 6 + 5 = 227; video
  // tfdt 40 ms * 90, durations (80 - 40) and (120 - 80) ms * 90 = 3600; audio
  // tfdt round(46 * 44.1) = 2029.
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), aac_track()}, fragment_input(video, 120, audio, 3));
  EXPECT_EQ(hex(fragment.span()), hex(expected));
}

TEST(Fmp4Fragment, NoSamplesIsEmpty) {
  EXPECT_TRUE(write_fmp4_fragment({h264_track(), aac_track()}, {}).empty());
}

TEST(Fmp4Fragment, TreeAndHeaders) {
  const std::vector<AvSample> video = {video_sample(1000, 0, true, {0, 0, 0, 1, 0x65})};
  const std::vector<AvSample> audio = {audio_sample(1000, {0x21, 0x22})};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), aac_track()}, fragment_input(video, 1040, audio, 7));
  const auto data = fragment.span();
  EXPECT_EQ(tree(data), "moof[mfhd traf[tfhd tfdt trun] traf[tfhd tfdt trun]] mdat");
  EXPECT_EQ(path(data, {"moof", "mfhd"}).u32(12), 7u);
  const Traf v = traf_at(data, 0);
  EXPECT_EQ(v.tfhd.flags(), 0x020000u);  // default-base-is-moof
  EXPECT_EQ(v.tfhd.u32(12), 1u);         // track_ID
  EXPECT_EQ(v.tfdt.version(), 1);
  EXPECT_EQ(v.tfdt.u64(12), 90000u);
  EXPECT_EQ(v.trun.version(), 1);
  EXPECT_EQ(v.trun.flags(), 0x000f01u);
  const Traf a = traf_at(data, 1);
  EXPECT_EQ(a.tfhd.u32(12), 2u);
  EXPECT_EQ(a.tfdt.u64(12), 44100u);
  EXPECT_EQ(a.trun.flags(), 0x000701u);
  EXPECT_EQ(a.trun.data.size(), 20u + 12);
}

TEST(Fmp4Fragment, DataOffsetsPointAtFirstSamples) {
  const Bytes v0 = {0, 0, 0, 2, 0x65, 0x88}, v1 = {0, 0, 0, 1, 0x41}, v2 = {0, 0, 0, 1, 0x01};
  const Bytes a0 = {0xa0, 0xa1, 0xa2}, a1 = {0xb0};
  const std::vector<AvSample> video = {video_sample(0, 80, true, v0),
                                       video_sample(40, 40, false, v1),
                                       video_sample(80, 0, false, v2)};
  const std::vector<AvSample> audio = {audio_sample(0, a0), audio_sample(23, a1)};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), aac_track()}, fragment_input(video, 120, audio));
  const auto data = fragment.span();
  const Box moof = path(data, {"moof"});
  const Box mdat = path(data, {"mdat"});
  EXPECT_EQ(mdat.payload().size(), v0.size() + v1.size() + v2.size() + a0.size() + a1.size());

  const uint32_t video_offset = traf_at(data, 0).trun.u32(16);
  const uint32_t audio_offset = traf_at(data, 1).trun.u32(16);
  EXPECT_EQ(video_offset, moof.data.size() + 8);
  EXPECT_EQ(Bytes(data.begin() + moof.offset + video_offset,
                  data.begin() + moof.offset + video_offset + v0.size()),
            v0);
  EXPECT_EQ(audio_offset, video_offset + v0.size() + v1.size() + v2.size());
  EXPECT_EQ(Bytes(data.begin() + moof.offset + audio_offset, data.end()),
            testing::concat({a0, a1}));
}

TEST(Fmp4Fragment, AudioOnlyFragment) {
  const Bytes a0 = {1, 2, 3};
  const std::vector<AvSample> audio = {audio_sample(500, a0)};
  const SharedBytes fragment = write_fmp4_fragment({std::nullopt, aac_track()}, audio_input(audio));
  const auto data = fragment.span();
  EXPECT_EQ(tree(data), "moof[mfhd traf[tfhd tfdt trun]] mdat");
  const Traf a = traf_at(data, 0);
  EXPECT_EQ(a.tfhd.u32(12), 1u);
  EXPECT_EQ(a.tfdt.u64(12), 22050u);
  const uint32_t offset = a.trun.u32(16);
  EXPECT_EQ(Bytes(data.begin() + offset, data.end()), a0);
}

TEST(Fmp4Fragment, VideoOnlySamplesOfAVideoAudioStream) {
  // A fragment (e.g. an LL-HLS part) may carry one track only.
  const Bytes v0 = {0, 0, 0, 1, 0x65};
  const std::vector<AvSample> video = {video_sample(0, 0, true, v0)};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), aac_track()}, video_input(video, 40));
  const auto data = fragment.span();
  EXPECT_EQ(tree(data), "moof[mfhd traf[tfhd tfdt trun]] mdat");
  const uint32_t offset = traf_at(data, 0).trun.u32(16);
  EXPECT_EQ(Bytes(data.begin() + offset, data.end()), v0);
}

TEST(Fmp4Fragment, DurationsCompositionOffsetsAndFlags) {
  // I P B b: decode order with B-frames, 25 fps.
  const std::vector<AvSample> video = {
      video_sample(1000, 40, true, {1}), video_sample(1040, 120, false, {2, 2}),
      video_sample(1080, 40, false, {3, 3, 3}), video_sample(1120, 0, false, {4})};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), std::nullopt}, video_input(video, 1160));
  const Traf v = traf_at(fragment.span(), 0);
  EXPECT_EQ(v.tfdt.u64(12), 1000u * 90);
  EXPECT_EQ(v.trun.u32(12), 4u);  // sample_count
  const TrunEntry expected[] = {{3600, 1, 0x02000000, 3600},
                                {3600, 2, 0x01010000, 10800},
                                {3600, 3, 0x01010000, 3600},
                                {3600, 1, 0x01010000, 0}};
  for (size_t i = 0; i < 4; ++i) {
    const TrunEntry e = trun_entry(v.trun, i);
    EXPECT_EQ(e.duration, expected[i].duration) << i;
    EXPECT_EQ(e.size, expected[i].size) << i;
    EXPECT_EQ(e.flags, expected[i].flags) << i;
    EXPECT_EQ(e.composition_offset, expected[i].composition_offset) << i;
  }
}

TEST(Fmp4Fragment, NegativeDurationsClampToZero) {
  // dts going backwards, and an end before the last dts.
  const std::vector<AvSample> video = {video_sample(100, 0, true, {1}),
                                       video_sample(80, 0, false, {2}),
                                       video_sample(120, 0, false, {3})};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), std::nullopt}, video_input(video, 110));
  const Traf v = traf_at(fragment.span(), 0);
  EXPECT_EQ(trun_entry(v.trun, 0).duration, 0u);
  EXPECT_EQ(trun_entry(v.trun, 1).duration, 40u * 90);
  EXPECT_EQ(trun_entry(v.trun, 2).duration, 0u);
}

TEST(Fmp4Fragment, NegativeCompositionOffsetIsSigned) {
  const std::vector<AvSample> video = {video_sample(100, -40, true, {1})};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), std::nullopt}, video_input(video, 140));
  EXPECT_EQ(trun_entry(traf_at(fragment.span(), 0).trun, 0).composition_offset, -3600);
}

TEST(Fmp4Fragment, AudioTimingInSampleRateTimescale) {
  AudioTrackConfig mp3 = mp3_track(48000, 1);
  // 23 ms at 44100 Hz = 1014.3 samples -> 1014; 48000 Hz: exact.
  const std::vector<AvSample> audio = {audio_sample(23, {1}), audio_sample(47, {2})};
  const SharedBytes aac = write_fmp4_fragment({std::nullopt, aac_track()}, audio_input(audio));
  const Traf a = traf_at(aac.span(), 0);
  EXPECT_EQ(a.tfdt.u64(12), 1014u);
  EXPECT_EQ(trun_entry(a.trun, 0).duration, 1024u);
  EXPECT_EQ(trun_entry(a.trun, 1).duration, 1024u);
  EXPECT_EQ(trun_entry(a.trun, 0).flags, 0x02000000u);
  // 35 ms at 44100 = 1543.5 -> rounds up to 1544.
  const std::vector<AvSample> half = {audio_sample(35, {1})};
  EXPECT_EQ(traf_at(write_fmp4_fragment({std::nullopt, aac_track()}, audio_input(half)).span(), 0)
                .tfdt.u64(12),
            1544u);

  const SharedBytes mp3_fragment = write_fmp4_fragment({std::nullopt, mp3}, audio_input(audio));
  const Traf m = traf_at(mp3_fragment.span(), 0);
  EXPECT_EQ(m.tfdt.u64(12), 23u * 48);
  EXPECT_EQ(trun_entry(m.trun, 0).duration, 1152u);
}

TEST(Fmp4Fragment, LongDtsUses64BitTfdt) {
  // 2^32 / 90000 s is ~13.3 hours: later decode times need tfdt version 1.
  const MediaTimeMs dts = 20LL * 3600 * 1000;
  const std::vector<AvSample> video = {video_sample(dts, 0, true, {1})};
  const SharedBytes fragment =
      write_fmp4_fragment({h264_track(), std::nullopt}, video_input(video, dts + 40));
  EXPECT_EQ(traf_at(fragment.span(), 0).tfdt.u64(12), uint64_t(dts) * 90);
}

// ---------------------------------------------------------------------------
// Real decoders: H.264 (with B-frames) + AAC from an FFmpeg-made FLV, muxed
// into init + one fragment per GOP, then read back by ffprobe and decoded by
// ffmpeg. Skipped without ffmpeg/ffprobe (or an ffmpeg without libx264).

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its exit status and stdout (stderr too if the
// command redirects it).
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, output};
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  return {pclose(pipe), output};
}

struct FlvStream {
  TrackSet tracks;
  std::vector<AvSample> video, audio;
};

// Strips the FLV audio/video tag headers (FLV spec E.4.2.1, E.4.3.1) the way
// av_sample_from_frame does, for AVC and AAC only.
FlvStream demux_flv(std::span<const uint8_t> file) {
  FlvStream out;
  flv::FlvDemuxer demuxer;
  const Result<size_t> consumed = demuxer.feed(file);
  EXPECT_TRUE(consumed.ok());
  while (auto tag = demuxer.next_tag()) {
    if (tag->type == flv::kTagVideo) {
      const auto info = flv::parse_video_tag(tag->body.span());
      if (!info.ok() || info->codec != flv::VideoCodec::kH264) continue;
      const SharedBytes payload =
          tag->body.slice(info->header_size, tag->body.size() - info->header_size);
      if (info->packet == flv::VideoPacket::kSequenceStart) {
        const auto avc = parse_avc_decoder_config(payload.span());
        EXPECT_TRUE(avc.ok());
        if (!avc.ok()) continue;
        VideoTrackConfig video;
        video.record = payload;
        video.nal_length_size = avc->nal_length_size;
        video.width = avc->width;
        video.height = avc->height;
        out.tracks.video = video;
      } else if (info->packet == flv::VideoPacket::kCodedFrames) {
        out.video.push_back({TrackKind::kVideo, tag->timestamp_ms, info->composition_time_ms,
                             info->keyframe(), payload});
      }
    } else if (tag->type == flv::kTagAudio) {
      const auto info = flv::parse_audio_tag(tag->body.span());
      if (!info.ok() || info->codec != flv::AudioCodec::kAac) continue;
      const SharedBytes payload =
          tag->body.slice(info->header_size, tag->body.size() - info->header_size);
      if (info->sequence_header) {
        const auto asc = parse_aac_audio_specific_config(payload.span());
        EXPECT_TRUE(asc.ok());
        if (!asc.ok()) continue;
        AudioTrackConfig audio;
        audio.specific_config = payload;
        audio.sample_rate = asc->sample_rate;
        audio.channels = asc->channel_configuration;
        audio.samples_per_frame = 1024;
        out.tracks.audio = audio;
      } else {
        out.audio.push_back({TrackKind::kAudio, tag->timestamp_ms, 0, true, payload});
      }
    }
  }
  return out;
}

TEST(Fmp4WriterFfmpeg, RealH264AacIsReadAndDecoded) {
  if (!on_path("ffmpeg") || !on_path("ffprobe")) GTEST_SKIP() << "ffmpeg/ffprobe not on PATH";
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("fmp4_writer_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string flv_path = (dir / "in.flv").string();
  const std::string mp4_path = (dir / "out.mp4").string();
  const auto [encode_status, encode_output] =
      run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i "
          "sine=sample_rate=44100 -t 4 -c:v libx264 -g 25 -bf 2 -c:a aac -f flv '" +
          flv_path + "' 2>&1");
  if (encode_status != 0) GTEST_SKIP() << "ffmpeg cannot encode H.264/AAC: " << encode_output;

  std::ifstream in(flv_path, std::ios::binary);
  const Bytes flv_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const FlvStream stream = demux_flv(flv_bytes);
  ASSERT_TRUE(stream.tracks.video && stream.tracks.audio);
  ASSERT_GT(stream.video.size(), 50u);
  ASSERT_GT(stream.audio.size(), 50u);

  // One fragment per GOP; audio goes with the GOP its dts falls in.
  std::vector<uint8_t> file;
  const SharedBytes init = write_fmp4_init_segment(stream.tracks);
  file.insert(file.end(), init.span().begin(), init.span().end());
  std::vector<size_t> gop_starts;
  for (size_t i = 0; i < stream.video.size(); ++i) {
    if (stream.video[i].keyframe) gop_starts.push_back(i);
  }
  ASSERT_GE(gop_starts.size(), 3u);
  ASSERT_EQ(gop_starts.front(), 0u);
  size_t audio_at = 0;
  for (size_t g = 0; g < gop_starts.size(); ++g) {
    const size_t begin = gop_starts[g];
    const bool last = g + 1 == gop_starts.size();
    const size_t end = last ? stream.video.size() : gop_starts[g + 1];
    const MediaTimeMs end_dts = last ? stream.video.back().dts + 40 : stream.video[end].dts;
    size_t audio_end = audio_at;
    while (audio_end < stream.audio.size() && (last || stream.audio[audio_end].dts < end_dts)) {
      ++audio_end;
    }
    const auto video = std::span(stream.video).subspan(begin, end - begin);
    const auto audio = std::span(stream.audio).subspan(audio_at, audio_end - audio_at);
    const SharedBytes fragment = write_fmp4_fragment(
        stream.tracks, fragment_input(video, end_dts, audio, static_cast<uint32_t>(g + 1)));
    file.insert(file.end(), fragment.span().begin(), fragment.span().end());
    audio_at = audio_end;
  }
  std::ofstream(mp4_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));

  // ffprobe: every packet, with the timestamps the samples were given.
  const auto [probe_status, probe_output] =
      run("ffprobe -v error -show_entries packet=codec_type,pts,dts,flags -of csv=p=0 '" +
          mp4_path + "' 2>&1");
  ASSERT_EQ(probe_status, 0) << probe_output;
  std::vector<std::vector<std::string>> video_packets, audio_packets;
  std::istringstream lines(probe_output);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    ASSERT_EQ(fields.size(), 4u) << "unexpected ffprobe line: " << line;
    (fields[0] == "video" ? video_packets : audio_packets).push_back(fields);
  }
  ASSERT_EQ(video_packets.size(), stream.video.size());
  ASSERT_EQ(audio_packets.size(), stream.audio.size());
  size_t reordered = 0;
  for (size_t i = 0; i < stream.video.size(); ++i) {
    const AvSample& sample = stream.video[i];
    EXPECT_EQ(video_packets[i][2], std::to_string(sample.dts * 90)) << "video dts " << i;
    EXPECT_EQ(video_packets[i][1], std::to_string((sample.dts + sample.cts_ms) * 90))
        << "video pts " << i;
    EXPECT_EQ(video_packets[i][3][0] == 'K', sample.keyframe) << "video flags " << i;
    if (sample.cts_ms != 0) ++reordered;
  }
  EXPECT_GT(reordered, 0u) << "expected B-frames (pts != dts)";
  int64_t previous_dts = -1;
  for (const auto& packet : audio_packets) {
    const int64_t dts = std::stoll(packet[2]);
    EXPECT_GT(dts, previous_dts);
    previous_dts = dts;
  }

  // ffmpeg: decodes everything without a single error.
  const auto [decode_status, decode_output] =
      run("ffmpeg -nostdin -v error -i '" + mp4_path + "' -f null - 2>&1");
  EXPECT_EQ(decode_status, 0);
  EXPECT_EQ(decode_output, "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cascade::media
