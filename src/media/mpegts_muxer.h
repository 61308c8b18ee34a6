// TsMuxer: MPEG-2 transport stream (ISO/IEC 13818-1) segments for HLS
// (RFC 8216bis 3.2). One program, at most one video track (H.264 or HEVC)
// and one audio track (AAC in ADTS, or MP3), one PES per sample.
//
// Layout: PAT (PID 0) -> PMT (PID kTsPmtPid) -> video PID kTsVideoPid,
// audio PID kTsAudioPid. The PCR rides in the video PID when there is video,
// else in the audio PID. Timestamps are the samples' ms times on the 90 kHz
// clock, wrapped to 33 bits; PCR equals the DTS of the PES that carries it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/av_sample.h"

namespace cascade::media {

inline constexpr size_t kTsPacketSize = 188;
inline constexpr uint8_t kTsSyncByte = 0x47;
inline constexpr uint16_t kTsPatPid = 0x0000;
inline constexpr uint16_t kTsPmtPid = 0x1000;
inline constexpr uint16_t kTsVideoPid = 0x0100;
inline constexpr uint16_t kTsAudioPid = 0x0101;
inline constexpr uint16_t kTsProgramNumber = 1;
inline constexpr uint16_t kTsTransportStreamId = 1;

// 13818-1 Table 2-34: stream_type.
inline constexpr uint8_t kTsStreamTypeMpeg1Audio = 0x03;
inline constexpr uint8_t kTsStreamTypeMpeg2Audio = 0x04;
inline constexpr uint8_t kTsStreamTypeAdtsAac = 0x0F;
inline constexpr uint8_t kTsStreamTypeH264 = 0x1B;
inline constexpr uint8_t kTsStreamTypeHevc = 0x24;

// 13818-1 Annex A: the CRC_32 of PSI sections (polynomial 0x04C11DB7,
// MSB first, initial value 0xFFFFFFFF, no final XOR). Over a whole section
// including its CRC_32 field the result is 0.
uint32_t ts_crc32(std::span<const uint8_t> bytes);

// One muxer per HLS TS output of a stream: it owns the continuity counters,
// which continue across segments for the muxer's lifetime.
// Not thread-safe; one owner.
class TsMuxer {
 public:
  // Precondition: at least one of tracks.video / tracks.audio is set.
  explicit TsMuxer(TrackSet tracks);

  // Appends PAT and PMT (13818-1 2.4.4.3 / 2.4.4.8), one TS packet each.
  // Call at the start of every segment, so each segment decodes on its own.
  void write_tables(std::vector<uint8_t>& out);

  // Appends one PES (2.4.3.6) carrying the sample, split into 188-byte TS
  // packets (the last one padded with adaptation-field stuffing, never with
  // PES padding). Video is converted to Annex B with an access unit delimiter
  // first and, on keyframes without an in-band SPS, the track's parameter
  // sets after it. Audio AAC gets an ADTS header.
  //
  // Returns false, appending nothing and leaving the counters unchanged,
  // when the sample cannot be muxed: its kind has no track in the TrackSet,
  // it is empty, a NAL length runs past the end of the data, or the audio
  // frame does not fit its header (ADTS frame_length is 13 bits, an audio
  // PES_packet_length 16 bits; an AAC object type or sampling frequency
  // index that ADTS cannot signal drops every AAC sample).
  bool write_sample(const AvSample& sample, std::vector<uint8_t>& out);

  const TrackSet& tracks() const { return tracks_; }

 private:
  bool build_video_pes(const AvSample& sample);
  bool build_audio_pes(const AvSample& sample);
  void packetize(uint16_t pid, uint8_t& continuity_counter, bool random_access,
                 std::optional<uint64_t> pcr_base, std::vector<uint8_t>& out);
  void write_section_packet(uint16_t pid, uint8_t& continuity_counter,
                            std::span<const uint8_t> section, std::vector<uint8_t>& out);

  TrackSet tracks_;
  uint16_t pcr_pid_;
  // 13818-1 2.4.3.3: continuity_counter, 4 bits per PID.
  uint8_t pat_cc_ = 0;
  uint8_t pmt_cc_ = 0;
  uint8_t video_cc_ = 0;
  uint8_t audio_cc_ = 0;
  // Scratch space reused across calls (no allocation per sample once warm):
  // the PES being packetized and the NAL units of the current sample.
  std::vector<uint8_t> pes_;
  std::vector<std::span<const uint8_t>> nals_;
};

}  // namespace cascade::media
