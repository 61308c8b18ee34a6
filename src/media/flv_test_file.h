// Test-only: synthetic FLV files for the keyframe index and seek tests, laid
// out like FFmpeg writes them (onMetaData, AVC and AAC sequence headers, then
// GOPs of interleaved video and audio tags).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "media/amf0.h"
#include "media/flv.h"
#include "media/test_corpus.h"

namespace cascade::flv::testing {

using media::testing::Bytes;

struct FlvFileSpec {
  uint32_t gops = 5;
  uint32_t gop_ms = 1000;
  bool video = true;
  bool audio = true;
  bool metadata = true;
  bool keyframe_index = true;  // onMetaData keyframes { times, filepositions }
  size_t keyframe_bytes = 40;  // body size of a keyframe tag
  // A second AVC sequence header just before this GOP's keyframe.
  std::optional<uint32_t> config_change_at_gop;
};

struct FlvFile {
  Bytes bytes;
  uint64_t metadata_offset = 0;
  std::vector<uint64_t> video_config_offsets;
  uint64_t audio_config_offset = 0;
  std::vector<uint64_t> keyframe_offsets;
  std::vector<uint32_t> keyframe_times_ms;
  std::vector<uint64_t> audio_offsets;  // non-config audio tags
  std::vector<uint32_t> audio_times_ms;
  std::vector<uint64_t> tag_offsets;  // every tag
  std::vector<uint32_t> tag_times_ms;
  uint32_t last_timestamp_ms = 0;
};

inline Bytes flv_video_body(uint8_t frame_type, uint8_t avc_packet_type, size_t size,
                            uint8_t fill) {
  Bytes body = {static_cast<uint8_t>(frame_type << 4 | 7), avc_packet_type, 0, 0, 0};
  body.resize(std::max<size_t>(size, body.size()), fill);
  return body;
}

// onMetaData with the keyframes object (FFmpeg's layout: an ECMA array).
inline Bytes flv_metadata_body(const std::vector<double>& times,
                               const std::vector<double>& positions, double duration) {
  amf0::Value meta = amf0::Value::ecma_array();
  meta.set("duration", amf0::Value::number(duration));
  meta.set("hasKeyframes", amf0::Value::boolean(true));
  amf0::Value keyframes = amf0::Value::object();
  amf0::Value time_array = amf0::Value::strict_array();
  for (double t : times) time_array.push(amf0::Value::number(t));
  amf0::Value position_array = amf0::Value::strict_array();
  for (double p : positions) position_array.push(amf0::Value::number(p));
  keyframes.set("times", std::move(time_array));
  keyframes.set("filepositions", std::move(position_array));
  meta.set("keyframes", std::move(keyframes));
  return amf0::encode_all({amf0::Value::string("onMetaData"), meta});
}

namespace detail {

inline FlvFile write_flv_file(const FlvFileSpec& spec, const std::vector<double>& times,
                              const std::vector<double>& positions) {
  FlvFile f;
  write_file_header(spec.audio, spec.video, f.bytes);
  auto tag = [&f](uint8_t type, uint32_t ts, const Bytes& body) {
    const uint64_t offset = f.bytes.size();
    write_tag(type, ts, body, f.bytes);
    f.tag_offsets.push_back(offset);
    f.tag_times_ms.push_back(ts);
    f.last_timestamp_ms = std::max(f.last_timestamp_ms, ts);
    return offset;
  };
  if (spec.metadata) {
    f.metadata_offset =
        tag(kTagScript, 0,
            spec.keyframe_index ? flv_metadata_body(times, positions, spec.gops * spec.gop_ms / 1e3)
                                : flv_metadata_body({}, {}, spec.gops * spec.gop_ms / 1e3));
  }
  if (spec.video)
    f.video_config_offsets.push_back(tag(kTagVideo, 0, flv_video_body(1, 0, 20, 0x11)));
  if (spec.audio) f.audio_config_offset = tag(kTagAudio, 0, {0xAF, 0x00, 0x12, 0x10});
  uint8_t fill = 0;
  for (uint32_t g = 0; g < spec.gops; ++g) {
    const uint32_t t0 = g * spec.gop_ms;
    if (spec.video && spec.config_change_at_gop == g) {
      f.video_config_offsets.push_back(tag(kTagVideo, t0, flv_video_body(1, 0, 24, 0x22)));
    }
    if (spec.video) {
      f.keyframe_offsets.push_back(
          tag(kTagVideo, t0, flv_video_body(1, 1, spec.keyframe_bytes, ++fill)));
      f.keyframe_times_ms.push_back(t0);
    }
    for (uint32_t step = 0; step < 3; ++step) {
      const uint32_t t = t0 + step * spec.gop_ms / 3;
      if (spec.audio) {
        f.audio_offsets.push_back(tag(kTagAudio, t, {0xAF, 0x01, ++fill, 0x55, 0x66}));
        f.audio_times_ms.push_back(t);
      }
      if (spec.video && step > 0) tag(kTagVideo, t, flv_video_body(2, 1, 12, ++fill));
    }
  }
  return f;
}

}  // namespace detail

// The file, its onMetaData keyframes listing the real keyframe tags (two
// passes: the metadata's size does not depend on the numbers in it).
inline FlvFile make_flv_file(const FlvFileSpec& spec = {}) {
  const std::vector<double> zeros(spec.video ? spec.gops : 0, 0.0);
  const FlvFile layout = detail::write_flv_file(spec, zeros, zeros);
  std::vector<double> times, positions;
  for (size_t i = 0; i < layout.keyframe_offsets.size(); ++i) {
    times.push_back(layout.keyframe_times_ms[i] / 1e3);
    positions.push_back(static_cast<double>(layout.keyframe_offsets[i]));
  }
  return detail::write_flv_file(spec, times, positions);
}

// The same layout with onMetaData keyframes replaced by `times`/`positions`
// (with as many entries as keyframes, every offset stays put).
inline FlvFile with_keyframe_index(const FlvFileSpec& spec, const std::vector<double>& times,
                                   const std::vector<double>& positions) {
  return detail::write_flv_file(spec, times, positions);
}

}  // namespace cascade::flv::testing
