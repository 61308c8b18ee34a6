#include "media/mpegts_muxer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <utility>

#include "core/byte_order.h"
#include "core/byte_reader.h"
#include "core/byte_writer.h"

namespace cascade::media {

namespace {

// 13818-1 2.4.3.2: a 4-byte packet header, then adaptation field and/or payload.
constexpr size_t kTsHeaderSize = 4;
constexpr size_t kTsBodySize = kTsPacketSize - kTsHeaderSize;

// 13818-1 Table 2-22: stream_id.
constexpr uint8_t kStreamIdAudio = 0xC0;  // first MPEG audio stream
constexpr uint8_t kStreamIdVideo = 0xE0;  // first MPEG video stream

// 13818-1 2.4.3.7: PTS/DTS are 33 bits in 90 kHz units (the 27 MHz system clock / 300).
constexpr uint64_t kTimestampMask = (uint64_t{1} << 33) - 1;

// ISO/IEC 14496-3 1.A.2.2.1: adts_fixed_header + adts_variable_header with
// protection_absent = 1 (no CRC); frame_length is 13 bits.
constexpr size_t kAdtsHeaderSize = 7;
constexpr size_t kMaxAdtsFrameLength = 0x1FFF;

// Access unit delimiters (H.264 7.3.2.4, H.265 7.3.2.5) that allow any slice
// type (H.264 Table 7-5 primary_pic_type 7, H.265 Table 7-2 pic_type 2),
// start code first.
constexpr std::array<uint8_t, 6> kH264Aud = {0x00, 0x00, 0x00, 0x01, 0x09, 0xF0};
constexpr std::array<uint8_t, 7> kHevcAud = {0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x50};
constexpr std::array<uint8_t, 4> kStartCode = {0x00, 0x00, 0x00, 0x01};

// H.264 Table 7-1 / H.265 Table 7-1: nal_unit_type values used here.
constexpr uint8_t kH264NalSps = 7;
constexpr uint8_t kH264NalAud = 9;
constexpr uint8_t kHevcNalSps = 33;
constexpr uint8_t kHevcNalAud = 35;

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 24;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

uint64_t to_90khz(MediaTimeMs ms) {
  // Unsigned arithmetic wraps modulo 2^64, a multiple of 2^33, so negative
  // times land on the right 33-bit value too.
  return static_cast<uint64_t>(ms) * 90 & kTimestampMask;
}

// 13818-1 2.4.3.7 (Table 2-21): '0010'/'0011'/'0001' prefix, then the 33
// bits in three groups, each followed by a marker bit.
void write_timestamp(ByteWriter& w, uint8_t prefix, uint64_t ts) {
  w.u8(static_cast<uint8_t>(prefix << 4 | (ts >> 29 & 0x0E) | 1));
  w.u16be(static_cast<uint16_t>((ts >> 14 & 0xFFFE) | 1));
  w.u16be(static_cast<uint16_t>((ts << 1 & 0xFFFE) | 1));
}

// 13818-1 2.4.3.6: PES header up to and including the PTS/DTS fields.
// pes_packet_length 0 means unbounded (allowed for video only).
void write_pes_header(ByteWriter& w, uint8_t stream_id, uint16_t pes_packet_length, uint64_t pts,
                      std::optional<uint64_t> dts) {
  w.u24be(0x000001);  // packet_start_code_prefix
  w.u8(stream_id);
  w.u16be(pes_packet_length);
  // '10', PES_scrambling_control 00, PES_priority 0, data_alignment_indicator 1
  // (the payload starts with an access unit / audio sync word), copyright 0,
  // original_or_copy 0.
  w.u8(0x84);
  w.u8(dts ? 0xC0 : 0x80);  // PTS_DTS_flags '11' or '10', no other optional fields
  w.u8(dts ? 10 : 5);       // PES_header_data_length
  write_timestamp(w, dts ? 0x3 : 0x2, pts);
  if (dts) write_timestamp(w, 0x1, *dts);
}

// 13818-1 2.4.3.5: program_clock_reference_base (33 bits), 6 reserved bits,
// program_clock_reference_extension (9 bits, 0 here).
void store_pcr(uint8_t* p, uint64_t base) {
  store_u32be(p, static_cast<uint32_t>(base >> 1));
  p[4] = static_cast<uint8_t>((base & 1) << 7 | 0x7E);
  p[5] = 0x00;
}

// ADTS profile_ObjectType (14496-3 1.A.2.2.1): audioObjectType - 1 for the
// four MPEG-2 AAC profiles. SBR/PS (5, 29) ride on an AAC LC core (implicit
// signalling: the ASC's samplingFrequencyIndex is the core's). Other object
// types cannot be carried in ADTS.
std::optional<uint8_t> adts_profile(uint8_t audio_object_type) {
  if (audio_object_type >= 1 && audio_object_type <= 4) return audio_object_type - 1;
  if (audio_object_type == 5 || audio_object_type == 29) return 1;
  return std::nullopt;
}

uint8_t nal_type(VideoCodecId codec, std::span<const uint8_t> nal) {
  return codec == VideoCodecId::kHevc ? (nal[0] >> 1 & 0x3F) : (nal[0] & 0x1F);
}

}  // namespace

uint32_t ts_crc32(std::span<const uint8_t> bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) crc = crc << 8 ^ kCrcTable[(crc >> 24 ^ b) & 0xFF];
  return crc;
}

TsMuxer::TsMuxer(TrackSet tracks)
    : tracks_(std::move(tracks)), pcr_pid_(tracks_.video ? kTsVideoPid : kTsAudioPid) {
  assert(tracks_.video || tracks_.audio);
}

// ---------------------------------------------------------------------------
// PSI

void TsMuxer::write_tables(std::vector<uint8_t>& out) {
  std::vector<uint8_t> section;
  ByteWriter w(section);

  // 13818-1 2.4.4.3 (Table 2-30): program_association_section with one
  // program. section_length counts the bytes after it, CRC_32 included.
  w.u8(0x00);            // table_id
  w.u16be(0xB000 | 13);  // section_syntax_indicator 1, '0', reserved '11', section_length
  w.u16be(kTsTransportStreamId);
  w.u8(0xC1);  // reserved '11', version_number 0, current_next_indicator 1
  w.u8(0x00);  // section_number
  w.u8(0x00);  // last_section_number
  w.u16be(kTsProgramNumber);
  w.u16be(0xE000 | kTsPmtPid);  // reserved '111', program_map_PID
  w.u32be(ts_crc32(section));
  write_section_packet(kTsPatPid, pat_cc_, section, out);

  // 13818-1 2.4.4.8 (Table 2-33): TS_program_map_section, no descriptors.
  section.clear();
  const size_t streams = (tracks_.video ? 1 : 0) + (tracks_.audio ? 1 : 0);
  const auto section_length = static_cast<uint16_t>(9 + 5 * streams + 4);
  w.u8(0x02);  // table_id
  w.u16be(0xB000 | section_length);
  w.u16be(kTsProgramNumber);
  w.u8(0xC1);                  // reserved '11', version_number 0, current_next_indicator 1
  w.u8(0x00);                  // section_number
  w.u8(0x00);                  // last_section_number
  w.u16be(0xE000 | pcr_pid_);  // reserved '111', PCR_PID
  w.u16be(0xF000);             // reserved '1111', program_info_length 0
  const auto elementary_stream = [&w](uint8_t stream_type, uint16_t pid) {
    w.u8(stream_type);
    w.u16be(0xE000 | pid);  // reserved '111', elementary_PID
    w.u16be(0xF000);        // reserved '1111', ES_info_length 0
  };
  if (tracks_.video) {
    elementary_stream(
        tracks_.video->codec == VideoCodecId::kHevc ? kTsStreamTypeHevc : kTsStreamTypeH264,
        kTsVideoPid);
  }
  if (tracks_.audio) {
    uint8_t stream_type = kTsStreamTypeAdtsAac;
    if (tracks_.audio->codec == AudioCodecId::kMp3) {
      stream_type = tracks_.audio->mpeg_audio_version == 1 ? kTsStreamTypeMpeg1Audio
                                                           : kTsStreamTypeMpeg2Audio;
    }
    elementary_stream(stream_type, kTsAudioPid);
  }
  w.u32be(ts_crc32(section));
  write_section_packet(kTsPmtPid, pmt_cc_, section, out);
}

void TsMuxer::write_section_packet(uint16_t pid, uint8_t& continuity_counter,
                                   std::span<const uint8_t> section, std::vector<uint8_t>& out) {
  assert(section.size() + 1 <= kTsBodySize);
  // 13818-1 2.4.4.1: after the last section, the packet is filled with 0xFF
  // stuffing bytes in the payload.
  const size_t start = out.size();
  out.resize(start + kTsPacketSize, 0xFF);
  uint8_t* p = out.data() + start;
  p[0] = kTsSyncByte;
  store_u16be(p + 1, static_cast<uint16_t>(0x4000 | pid));  // payload_unit_start_indicator
  p[3] = static_cast<uint8_t>(0x10 | continuity_counter);   // payload only
  continuity_counter = (continuity_counter + 1) & 0x0F;
  p[4] = 0x00;  // pointer_field: the section starts right after it
  std::memcpy(p + 5, section.data(), section.size());
}

// ---------------------------------------------------------------------------
// PES

bool TsMuxer::write_sample(const AvSample& sample, std::vector<uint8_t>& out) {
  switch (sample.kind) {
    case TrackKind::kVideo: {
      if (!tracks_.video || !build_video_pes(sample)) return false;
      std::optional<uint64_t> pcr;
      if (pcr_pid_ == kTsVideoPid) pcr = to_90khz(sample.dts);
      packetize(kTsVideoPid, video_cc_, sample.keyframe, pcr, out);
      return true;
    }
    case TrackKind::kAudio: {
      if (!tracks_.audio || !build_audio_pes(sample)) return false;
      std::optional<uint64_t> pcr;
      if (pcr_pid_ == kTsAudioPid) pcr = to_90khz(sample.dts);
      // Without video every audio frame is a random access point.
      packetize(kTsAudioPid, audio_cc_, !tracks_.video, pcr, out);
      return true;
    }
    case TrackKind::kData:
      return false;
  }
  return false;
}

bool TsMuxer::build_video_pes(const AvSample& sample) {
  const VideoTrackConfig& video = *tracks_.video;
  const size_t length_size = video.nal_length_size;
  if (length_size < 1 || length_size > 4) return false;

  // ISO/IEC 14496-15 5.3.2: NAL units each behind a length_size-byte
  // big-endian length. Every length is checked before anything is written.
  nals_.clear();
  ByteReader reader(sample.data.span());
  while (!reader.empty()) {
    uint32_t length = 0;
    for (size_t i = 0; i < length_size; ++i) length = length << 8 | reader.u8();
    const std::span<const uint8_t> nal = reader.bytes(length);
    if (!reader.ok()) return false;
    if (!nal.empty()) nals_.push_back(nal);
  }
  if (nals_.empty()) return false;

  const VideoCodecId codec = video.codec;
  const bool hevc = codec == VideoCodecId::kHevc;
  const bool has_aud = nal_type(codec, nals_.front()) == (hevc ? kHevcNalAud : kH264NalAud);
  const uint8_t sps_type = hevc ? kHevcNalSps : kH264NalSps;
  const bool has_sps = std::any_of(nals_.begin(), nals_.end(), [&](std::span<const uint8_t> nal) {
    return nal_type(codec, nal) == sps_type;
  });

  pes_.clear();
  ByteWriter w(pes_);
  const uint64_t dts = to_90khz(sample.dts);
  const uint64_t pts = to_90khz(sample.dts + sample.cts_ms);
  write_pes_header(w, kStreamIdVideo, 0, pts,
                   pts == dts ? std::nullopt : std::optional<uint64_t>(dts));

  // Annex B byte stream (H.264 B.1, H.265 B.2). The AU delimiter comes first
  // in an access unit, then parameter sets, then the rest (H.264 7.4.1.2.3,
  // H.265 7.4.2.4.4).
  size_t next = 0;
  if (has_aud) {
    w.bytes(kStartCode);
    w.bytes(nals_[next++]);
  } else if (hevc) {
    w.bytes(kHevcAud);
  } else {
    w.bytes(kH264Aud);
  }
  if (sample.keyframe && !has_sps) {
    for (const std::vector<uint8_t>& parameter_set : video.parameter_sets) {
      if (parameter_set.empty()) continue;
      w.bytes(kStartCode);
      w.bytes(parameter_set);
    }
  }
  for (; next < nals_.size(); ++next) {
    w.bytes(kStartCode);
    w.bytes(nals_[next]);
  }
  return true;
}

bool TsMuxer::build_audio_pes(const AvSample& sample) {
  const AudioTrackConfig& audio = *tracks_.audio;
  const std::span<const uint8_t> frame = sample.data.span();
  if (frame.empty()) return false;

  const bool aac = audio.codec == AudioCodecId::kAac;
  const size_t es_size = frame.size() + (aac ? kAdtsHeaderSize : 0);
  constexpr size_t kPesHeaderAfterLength = 3 + 5;  // flags, header length, PTS
  if (es_size + kPesHeaderAfterLength > 0xFFFF) return false;

  std::optional<uint8_t> profile;
  if (aac) {
    profile = adts_profile(audio.aac_object_type);
    // 14496-3 Table 1.18: indices 13-14 are reserved and 15 (an explicit
    // frequency) has no ADTS encoding.
    if (!profile || audio.sampling_frequency_index > 12 || es_size > kMaxAdtsFrameLength) {
      return false;
    }
  }

  pes_.clear();
  ByteWriter w(pes_);
  write_pes_header(w, kStreamIdAudio, static_cast<uint16_t>(es_size + kPesHeaderAfterLength),
                   to_90khz(sample.dts), std::nullopt);
  if (aac) {
    // 14496-3 1.A.2.2.1: syncword 0xFFF, ID 0 (MPEG-4), layer 00,
    // protection_absent 1, profile_ObjectType, sampling_frequency_index,
    // private_bit 0, channel_configuration, original_copy 0, home 0,
    // copyright bits 0, aac_frame_length (13, header included),
    // adts_buffer_fullness 0x7FF (VBR), number_of_raw_data_blocks_in_frame 0.
    const uint8_t sfi = audio.sampling_frequency_index;
    const uint8_t channels = audio.channel_configuration & 0x07;
    const size_t length = es_size;
    w.u8(0xFF);
    w.u8(0xF1);
    w.u8(static_cast<uint8_t>(*profile << 6 | sfi << 2 | channels >> 2));
    w.u8(static_cast<uint8_t>((channels & 0x03) << 6 | length >> 11));
    w.u8(static_cast<uint8_t>(length >> 3));
    w.u8(static_cast<uint8_t>((length & 0x07) << 5 | 0x1F));
    w.u8(0xFC);
  }
  w.bytes(frame);
  return true;
}

// ---------------------------------------------------------------------------
// TS packets

void TsMuxer::packetize(uint16_t pid, uint8_t& continuity_counter, bool random_access,
                        std::optional<uint64_t> pcr_base, std::vector<uint8_t>& out) {
  std::span<const uint8_t> rest(pes_);
  bool first = true;
  while (!rest.empty()) {
    // 13818-1 2.4.3.4: the adaptation field is adaptation_field_length, then
    // (if that is > 0) the flags byte, the optional fields and stuffing 0xFF.
    const bool pcr = first && pcr_base.has_value();
    const bool rai = first && random_access;
    size_t af_size = (pcr || rai) ? 2 + (pcr ? 6 : 0) : 0;
    const size_t payload = std::min(rest.size(), kTsBodySize - af_size);
    // Stuffing the last packet: grow the adaptation field (one byte needs
    // only adaptation_field_length = 0).
    af_size = kTsBodySize - payload;

    const size_t start = out.size();
    out.resize(start + kTsPacketSize);
    uint8_t* p = out.data() + start;
    p[0] = kTsSyncByte;
    store_u16be(p + 1, static_cast<uint16_t>((first ? 0x4000 : 0) | pid));
    // adaptation_field_control '11' (adaptation field and payload) or '01'.
    p[3] = static_cast<uint8_t>((af_size > 0 ? 0x30 : 0x10) | continuity_counter);
    continuity_counter = (continuity_counter + 1) & 0x0F;

    uint8_t* q = p + kTsHeaderSize;
    if (af_size > 0) {
      q[0] = static_cast<uint8_t>(af_size - 1);  // adaptation_field_length
      if (af_size > 1) {
        // discontinuity 0, random_access_indicator, ES_priority 0, PCR_flag,
        // OPCR/splicing/private/extension flags 0.
        q[1] = static_cast<uint8_t>((rai ? 0x40 : 0) | (pcr ? 0x10 : 0));
        size_t used = 2;
        if (pcr) {
          store_pcr(q + used, *pcr_base);
          used += 6;
        }
        std::memset(q + used, 0xFF, af_size - used);
      }
      q += af_size;
    }
    std::memcpy(q, rest.data(), payload);
    rest = rest.subspan(payload);
    first = false;
  }
}

}  // namespace cascade::media
