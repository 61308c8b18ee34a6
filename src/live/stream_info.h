// StreamInfo: what is known about a live stream's tracks, for viewers'
// container headers and for the stats API.
#pragma once

#include <cstdint>
#include <string>

namespace cascade::live {

struct StreamInfo {
  std::string key;  // "app/stream"
  bool has_audio = false;
  bool has_video = false;
  std::string video_codec;  // "h264", "hevc", "av1", ...
  std::string audio_codec;  // "aac", "mp3", ...
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t audio_sample_rate = 0;
  uint32_t audio_channels = 0;
};

}  // namespace cascade::live

namespace cascade::media {
struct Frame;
}

namespace cascade::live {
// Learns codec, resolution and audio format from a frame (codec configs
// carry most of it). Unparseable frames leave `info` as it was.
void update_stream_info(StreamInfo& info, const media::Frame& frame);
}  // namespace cascade::live
