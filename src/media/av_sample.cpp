#include "media/av_sample.h"

#include "core/byte_reader.h"
#include "media/aac_config.h"
#include "media/avc_config.h"
#include "media/flv.h"
#include "media/hevc_config.h"

namespace cascade::media {
namespace {

bool is_mp3(const flv::AudioTagInfo& tag) {
  return tag.codec == flv::AudioCodec::kMp3 || tag.codec == flv::AudioCodec::kMp38k ||
         (tag.codec == flv::AudioCodec::kExHeader && tag.fourcc == flv::kFourCcMp3);
}

bool is_aac(const flv::AudioTagInfo& tag) {
  return tag.codec == flv::AudioCodec::kAac ||
         (tag.codec == flv::AudioCodec::kExHeader && tag.fourcc == flv::kFourCcAac);
}

}  // namespace

Result<VideoTrackConfig> video_config_from_record(VideoCodecId codec, SharedBytes record,
                                                  std::string_view what) {
  VideoTrackConfig config;
  config.record = record;
  config.codec = codec;
  if (codec == VideoCodecId::kH264) {
    auto avc = parse_avc_decoder_config(record.span());
    if (!avc) return make_error("{}: {}", what, avc.error().message);
    if (avc->sps.empty() || avc->pps.empty()) return make_error("{} has no SPS or no PPS", what);
    config.nal_length_size = avc->nal_length_size;
    for (auto& sps : avc->sps) config.parameter_sets.push_back(std::move(sps));
    for (auto& pps : avc->pps) config.parameter_sets.push_back(std::move(pps));
    config.width = avc->width;
    config.height = avc->height;
    config.codec_string = avc_codec_string(*avc);
    return config;
  }
  auto hevc = parse_hevc_decoder_config(record.span());
  if (!hevc) return make_error("{}: {}", what, hevc.error().message);
  if (hevc->vps.empty() || hevc->sps.empty() || hevc->pps.empty()) {
    return make_error("{} lacks a VPS, SPS or PPS", what);
  }
  config.nal_length_size = hevc->nal_length_size;
  for (auto* set : {&hevc->vps, &hevc->sps, &hevc->pps}) {
    for (auto& nal : *set) config.parameter_sets.push_back(std::move(nal));
  }
  config.width = hevc->width;
  config.height = hevc->height;
  config.codec_string = hevc_codec_string(*hevc);
  return config;
}

Result<VideoTrackConfig> video_config_from_frame(const Frame& frame) {
  auto tag = flv::parse_video_tag(frame.payload.span());
  if (!tag) return tag.error();
  if (tag->packet != flv::VideoPacket::kSequenceStart) {
    return make_error("not a video sequence start");
  }
  SharedBytes record =
      frame.payload.slice(tag->header_size, frame.payload.size() - tag->header_size);
  if (tag->codec == flv::VideoCodec::kH264) {
    return video_config_from_record(VideoCodecId::kH264, record, "AVC sequence header");
  }
  if (tag->codec == flv::VideoCodec::kHevc) {
    return video_config_from_record(VideoCodecId::kHevc, record, "HEVC sequence header");
  }
  return make_error("video codec not supported for HLS (H.264 and HEVC are)");
}

bool is_mp3_frame(const Frame& frame) {
  if (frame.kind != TrackKind::kAudio) return false;
  auto tag = flv::parse_audio_tag(frame.payload.span());
  return tag && is_mp3(*tag);
}

Result<AudioTrackConfig> audio_config_from_specific_config(SharedBytes specific_config,
                                                           std::string_view what) {
  auto aac = parse_aac_audio_specific_config(specific_config.span());
  if (!aac) return make_error("{}: {}", what, aac.error().message);
  if (aac->channel_configuration == 0 || aac->sampling_frequency_index == 15) {
    // ADTS (MPEG-TS) cannot describe these; rare outside broadcast.
    return make_error("AAC with a program config element or explicit frequency is not supported");
  }
  AudioTrackConfig config;
  config.codec = AudioCodecId::kAac;
  config.specific_config = std::move(specific_config);
  config.aac_object_type = aac->object_type;
  config.sampling_frequency_index = aac->sampling_frequency_index;
  config.channel_configuration = aac->channel_configuration;
  config.sample_rate = aac->sample_rate;
  config.channels = aac->channel_configuration == 7 ? 8 : aac->channel_configuration;
  config.samples_per_frame = 1024;
  config.codec_string = aac_codec_string(*aac);
  return config;
}

Result<AudioTrackConfig> audio_config_from_frame(const Frame& frame) {
  auto tag = flv::parse_audio_tag(frame.payload.span());
  if (!tag) return tag.error();
  auto body = frame.payload.span().subspan(tag->header_size);
  AudioTrackConfig config;
  if (is_aac(*tag)) {
    if (!tag->sequence_header) return make_error("not an AAC sequence header");
    return audio_config_from_specific_config(
        frame.payload.slice(tag->header_size, frame.payload.size() - tag->header_size),
        "AAC sequence header");
  }
  if (is_mp3(*tag)) {
    auto header = parse_mpeg_audio_header(body);
    if (!header) return make_error("MP3 frame: {}", header.error().message);
    if (header->layer != 3)
      return make_error("MPEG audio layer {} is not supported", header->layer);
    config.codec = AudioCodecId::kMp3;
    config.sample_rate = header->sample_rate;
    config.channels = header->channels;
    config.samples_per_frame = header->samples_per_frame;
    config.mpeg_audio_version = header->version;
    config.codec_string = "mp4a.40.34";  // as HLS players name MP3
    return config;
  }
  return make_error("audio codec not supported for HLS (AAC and MP3 are)");
}

Result<std::optional<AvSample>> av_sample_from_frame(const Frame& frame) {
  if (frame.config) return std::optional<AvSample>{};
  AvSample sample;
  sample.kind = frame.kind;
  sample.dts = frame.dts;
  if (frame.kind == TrackKind::kVideo) {
    auto tag = flv::parse_video_tag(frame.payload.span());
    if (!tag) return tag.error();
    if (tag->packet != flv::VideoPacket::kCodedFrames ||
        (tag->codec != flv::VideoCodec::kH264 && tag->codec != flv::VideoCodec::kHevc) ||
        tag->header_size >= frame.payload.size()) {
      return std::optional<AvSample>{};
    }
    sample.cts_ms = tag->composition_time_ms;
    sample.keyframe = tag->keyframe();
    sample.data = frame.payload.slice(tag->header_size, frame.payload.size() - tag->header_size);
    return std::optional<AvSample>{std::move(sample)};
  }
  if (frame.kind == TrackKind::kAudio) {
    auto tag = flv::parse_audio_tag(frame.payload.span());
    if (!tag) return tag.error();
    if ((!is_aac(*tag) && !is_mp3(*tag)) || tag->sequence_header ||
        tag->header_size >= frame.payload.size()) {
      return std::optional<AvSample>{};
    }
    sample.keyframe = true;
    sample.data = frame.payload.slice(tag->header_size, frame.payload.size() - tag->header_size);
    return std::optional<AvSample>{std::move(sample)};
  }
  return std::optional<AvSample>{};
}

bool nal_units_well_formed(std::span<const uint8_t> data, uint8_t nal_length_size) {
  if (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4) return false;
  if (data.empty()) return false;
  size_t offset = 0;
  while (offset < data.size()) {
    if (data.size() - offset < nal_length_size) return false;
    size_t length = 0;
    for (uint8_t i = 0; i < nal_length_size; ++i) length = length << 8 | data[offset + i];
    offset += nal_length_size;
    if (length == 0 || length > data.size() - offset) return false;
    offset += length;
  }
  return true;
}

Result<MpegAudioHeader> parse_mpeg_audio_header(std::span<const uint8_t> frame) {
  if (frame.size() < 4) return make_error("MPEG audio frame shorter than its header");
  // 11172-3 2.4.1.3: syncword (12 bits; MPEG-2.5 uses 11), ID, layer,
  // protection_bit, bitrate_index, sampling_frequency, padding, private,
  // mode, ...
  if (frame[0] != 0xFF || (frame[1] & 0xE0) != 0xE0) return make_error("no MPEG audio sync word");
  MpegAudioHeader header;
  switch ((frame[1] >> 3) & 0x03) {
    case 0:
      header.version = 25;
      break;
    case 2:
      header.version = 2;
      break;
    case 3:
      header.version = 1;
      break;
    default:
      return make_error("reserved MPEG audio version");
  }
  switch ((frame[1] >> 1) & 0x03) {
    case 1:
      header.layer = 3;
      break;
    case 2:
      header.layer = 2;
      break;
    case 3:
      header.layer = 1;
      break;
    default:
      return make_error("reserved MPEG audio layer");
  }
  if ((frame[2] >> 4) == 0x0F) return make_error("bad MPEG audio bitrate index");
  const uint8_t rate_index = (frame[2] >> 2) & 0x03;
  if (rate_index == 3) return make_error("reserved MPEG audio sampling frequency");
  static constexpr uint32_t kRates[3] = {44100, 48000, 32000};
  const uint32_t divisor = header.version == 1 ? 1 : header.version == 2 ? 2 : 4;
  header.sample_rate = kRates[rate_index] / divisor;
  header.channels = (frame[3] >> 6) == 3 ? 1 : 2;
  header.samples_per_frame = header.layer == 1                            ? 384
                             : (header.layer == 2 || header.version == 1) ? 1152
                                                                          : 576;
  return header;
}

}  // namespace cascade::media
