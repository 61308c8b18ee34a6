// AvSample and track configs: access units in codec-native form, the input
// of the segment muxers (MPEG-TS, fMP4/CMAF). Built once per frame from the
// hub's FLV-bodied Frames (av_sample_from_frame), so every muxer sees the
// same normalized view: no FLV header bytes, timestamps in ms, the codec
// configuration parsed once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/shared_bytes.h"
#include "core/time.h"
#include "media/frame.h"

namespace cascade::media {

enum class VideoCodecId : uint8_t { kH264, kHevc };
enum class AudioCodecId : uint8_t { kAac, kMp3 };

struct VideoTrackConfig {
  VideoCodecId codec = VideoCodecId::kH264;
  // AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) or
  // HEVCDecoderConfigurationRecord (8.3.3.1), byte-for-byte as the avcC /
  // hvcC box body.
  SharedBytes record;
  uint8_t nal_length_size = 4;  // 1, 2 or 4
  // Parameter-set NAL units (with their NAL header, without start codes) in
  // decoding order: H.264 SPS then PPS; HEVC VPS, SPS, PPS. MPEG-TS repeats
  // them in-band before every keyframe.
  std::vector<std::vector<uint8_t>> parameter_sets;
  uint32_t width = 0;
  uint32_t height = 0;
  std::string codec_string;  // RFC 6381, e.g. "avc1.64001f", "hvc1.1.6.L93.B0"

  bool operator==(const VideoTrackConfig& other) const {
    return codec == other.codec && record.span().size() == other.record.span().size() &&
           std::equal(record.span().begin(), record.span().end(), other.record.span().begin());
  }
};

struct AudioTrackConfig {
  AudioCodecId codec = AudioCodecId::kAac;
  // AAC: AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), the esds
  // DecoderSpecificInfo. Empty for MP3.
  SharedBytes specific_config;
  uint8_t aac_object_type = 0;           // AAC only: audioObjectType (2 = LC)
  uint8_t sampling_frequency_index = 0;  // AAC only: for ADTS headers
  uint8_t channel_configuration = 0;     // AAC only: for ADTS headers
  uint32_t sample_rate = 0;              // Hz; also the fMP4 audio timescale
  uint8_t channels = 0;
  // PCM samples per coded frame: 1024 for AAC, 1152 for MPEG-1 Layer III,
  // 576 for MPEG-2/2.5 Layer III. The fMP4 sample duration.
  uint32_t samples_per_frame = 1024;
  uint8_t mpeg_audio_version = 1;  // MP3 only: 1 MPEG-1, 2 MPEG-2, 25 MPEG-2.5
  std::string codec_string;        // RFC 6381: "mp4a.40.2", "mp4a.40.34" (MP3)

  bool operator==(const AudioTrackConfig& other) const {
    return codec == other.codec && sample_rate == other.sample_rate && channels == other.channels &&
           specific_config.span().size() == other.specific_config.span().size() &&
           std::equal(specific_config.span().begin(), specific_config.span().end(),
                      other.specific_config.span().begin());
  }
};

// The tracks of one muxed output. Track IDs in fMP4: video 1, audio 2 (when
// present). At least one track is set.
struct TrackSet {
  std::optional<VideoTrackConfig> video;
  std::optional<AudioTrackConfig> audio;
};

struct AvSample {
  TrackKind kind = TrackKind::kVideo;  // kVideo or kAudio
  MediaTimeMs dts = 0;                 // decode time on the stream's timeline
  int32_t cts_ms = 0;                  // presentation time = dts + cts_ms (video; >= 0 in practice)
  bool keyframe = false;               // video random-access point; always true for audio
  // Video: the access unit's NAL units, each prefixed by its length in
  // nal_length_size big-endian bytes (AVCC/HVCC form, as in MP4 'mdat').
  // Audio: one raw AAC frame (no ADTS header) or one whole MP3 frame.
  SharedBytes data;
};

// --- Conversion from hub frames (FLV tag bodies) ---

// The video track config from a decoder configuration record (ISO/IEC
// 14496-15: AVCDecoderConfigurationRecord for kH264,
// HEVCDecoderConfigurationRecord for kHevc), as an FLV sequence start or an
// MP4 avcC/hvcC box carries it. Errors start with `what` (the record's name
// for the log: "avcC", "AVC sequence header").
Result<VideoTrackConfig> video_config_from_record(VideoCodecId codec, SharedBytes record,
                                                  std::string_view what);

// The video track config from a video sequence-start frame (FLV AVC/HEVC
// sequence header or Enhanced RTMP 'avc1'/'hvc1' SequenceStart). Errors name
// what is unsupported (other codecs) or malformed.
Result<VideoTrackConfig> video_config_from_frame(const Frame& frame);

// The audio track config from an AAC AudioSpecificConfig (ISO/IEC 14496-3
// 1.6.2.1), as an FLV AAC sequence header or an MP4 esds carries it. Errors
// start with `what`.
Result<AudioTrackConfig> audio_config_from_specific_config(SharedBytes specific_config,
                                                           std::string_view what);

// The audio track config from an AAC sequence-header frame, or from any MP3
// frame (MP3 has no sequence header: the MPEG audio frame header describes it).
Result<AudioTrackConfig> audio_config_from_frame(const Frame& frame);

// True if `frame` is an MP3 audio frame (legacy SoundFormat 2/14 or
// Enhanced '.mp3').
bool is_mp3_frame(const Frame& frame);

// The sample carried by a coded audio/video frame, or nullopt for frames
// that carry no sample (sequence headers/ends, metadata, command frames,
// empty payloads, codecs other than H.264/HEVC/AAC/MP3). `data` shares the
// frame's payload (no copy). Errors: a tag header cut short. NAL framing is
// not checked here: see nal_units_well_formed().
Result<std::optional<AvSample>> av_sample_from_frame(const Frame& frame);

// True if `data` is a whole sequence of NAL units each prefixed by a
// `nal_length_size`-byte big-endian length, none empty, none running past
// the end.
bool nal_units_well_formed(std::span<const uint8_t> data, uint8_t nal_length_size);

// MPEG audio frame header (ISO/IEC 11172-3 2.4.1.3, 13818-3 2.4.1.3,
// MPEG-2.5 extension). Errors: no sync word, reserved version, layer,
// sample rate or bitrate index.
struct MpegAudioHeader {
  uint8_t version = 1;  // 1, 2, or 25 (MPEG-2.5)
  uint8_t layer = 3;    // 1, 2 or 3
  uint32_t sample_rate = 0;
  uint8_t channels = 0;
  uint32_t samples_per_frame = 0;
};
Result<MpegAudioHeader> parse_mpeg_audio_header(std::span<const uint8_t> frame);

}  // namespace cascade::media
