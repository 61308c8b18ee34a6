#include "live/stream_info.h"

#include "media/frame.h"

#include "media/aac_config.h"
#include "media/avc_config.h"
#include "media/flv.h"
#include "media/hevc_config.h"

namespace cascade::live {
namespace {

const char* video_codec_name(flv::VideoCodec codec) {
  switch (codec) {
    case flv::VideoCodec::kH264: return "h264";
    case flv::VideoCodec::kHevc: return "hevc";
    case flv::VideoCodec::kAv1: return "av1";
    case flv::VideoCodec::kVp9: return "vp9";
    case flv::VideoCodec::kVp6:
    case flv::VideoCodec::kVp6Alpha: return "vp6";
    case flv::VideoCodec::kH263: return "h263";
    default: return "unknown";
  }
}

const char* audio_codec_name(flv::AudioCodec codec) {
  switch (codec) {
    case flv::AudioCodec::kAac: return "aac";
    case flv::AudioCodec::kMp3:
    case flv::AudioCodec::kMp38k: return "mp3";
    case flv::AudioCodec::kSpeex: return "speex";
    case flv::AudioCodec::kG711A: return "pcma";
    case flv::AudioCodec::kG711U: return "pcmu";
    case flv::AudioCodec::kNellymoser:
    case flv::AudioCodec::kNellymoser8Mono:
    case flv::AudioCodec::kNellymoser16Mono: return "nellymoser";
    default: return "other";
  }
}

}  // namespace

void update_stream_info(StreamInfo& info, const media::Frame& frame) {
  std::span<const uint8_t> body = frame.payload.span();
  if (frame.kind == media::TrackKind::kVideo) {
    auto tag = flv::parse_video_tag(body);
    if (!tag) return;
    info.has_video = true;
    info.video_codec = video_codec_name(tag->codec);
    if (!frame.config || tag->packet != flv::VideoPacket::kSequenceStart) return;
    auto config = body.subspan(tag->header_size);
    if (tag->codec == flv::VideoCodec::kH264) {
      if (auto avc = media::parse_avc_decoder_config(config)) {
        info.width = avc->width;
        info.height = avc->height;
      }
    } else if (tag->codec == flv::VideoCodec::kHevc) {
      if (auto hevc = media::parse_hevc_decoder_config(config)) {
        info.width = hevc->width;
        info.height = hevc->height;
      }
    }
  } else if (frame.kind == media::TrackKind::kAudio) {
    auto tag = flv::parse_audio_tag(body);
    if (!tag) return;
    info.has_audio = true;
    info.audio_codec = audio_codec_name(tag->codec);
    if (tag->codec == flv::AudioCodec::kAac && tag->sequence_header) {
      if (auto aac = media::parse_aac_audio_specific_config(body.subspan(tag->header_size))) {
        info.audio_sample_rate = aac->sample_rate;
        info.audio_channels = aac->channel_configuration;
      }
    }
  }
}

}  // namespace cascade::live
