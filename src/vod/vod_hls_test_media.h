// Test-only: a synthetic progressive MP4 "file" and its index, for the HLS
// unit tests: H.264 video (a real libx264 avcC, 1280x720 High@3.1, 30 fps
// at 90 kHz, a keyframe every `gop` frames, optional B-frame composition
// offsets) and AAC LC audio (44.1 kHz stereo), interleaved one second per
// chunk. Video samples are well-formed length-prefixed NAL units, so the
// muxers accept them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "media/mp4_box_writer.h"
#include "media/mp4_index.h"

namespace cascade::vod::testing {

inline std::vector<uint8_t> avc1_stsd() {
  static const uint8_t kAvcC[] = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64,
                                  0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10,
                                  0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0,
                                  0xf1, 0x83, 0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3,
                                  0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00};
  std::vector<uint8_t> out;
  media::Mp4BoxWriter w(out);
  const size_t stsd = w.begin_full_box(media::box_type("stsd"), 0, 0);
  w.u32be(1);
  const size_t entry = w.begin_box(media::box_type("avc1"));
  w.zeros(6);
  w.u16be(1);
  w.zeros(16);
  w.u16be(1280);
  w.u16be(720);
  w.zeros(50);
  const size_t avcc = w.begin_box(media::box_type("avcC"));
  w.bytes(kAvcC);
  w.end_box(avcc);
  w.end_box(entry);
  w.end_box(stsd);
  return out;
}

inline std::vector<uint8_t> mp4a_stsd(uint32_t object_type = 0x40) {
  std::vector<uint8_t> out;
  media::Mp4BoxWriter w(out);
  const size_t stsd = w.begin_full_box(media::box_type("stsd"), 0, 0);
  w.u32be(1);
  const size_t entry = w.begin_box(media::box_type("mp4a"));
  w.zeros(6);
  w.u16be(1);
  w.zeros(8);
  w.u16be(2);
  w.u16be(16);
  w.zeros(4);
  w.u32be(44100u << 16);
  const size_t esds = w.begin_full_box(media::box_type("esds"), 0, 0);
  // ES_Descriptor { DecoderConfigDescriptor { AudioSpecificConfig: AAC LC,
  // 44.1 kHz, stereo }, SLConfigDescriptor }.
  const uint8_t descriptors[] = {0x03, 25, 0,
                                 0,    0,  // ES_Descriptor
                                 0x04, 17, static_cast<uint8_t>(object_type),
                                 0x15,  // DecoderConfigDescriptor
                                 0,    0,  0,
                                 0,    0,  0,
                                 0,    0,  0,
                                 0,    0,  // buffer size, bitrates
                                 0x05, 2,  0x12,
                                 0x10,          // DecoderSpecificInfo
                                 0x06, 1,  2};  // SLConfigDescriptor
  w.bytes(descriptors);
  w.end_box(esds);
  w.end_box(entry);
  w.end_box(stsd);
  return out;
}

struct TestMedia {
  media::Mp4Index index;
  std::vector<uint8_t> file;
};

// `frames` video frames and enough AAC frames to cover them.
inline TestMedia make_test_media(uint32_t frames, uint32_t gop, bool b_frames = false,
                                 bool with_audio = true) {
  media::Mp4Track v, a;
  v.track_id = 1;
  v.kind = media::Mp4TrackKind::kVideo;
  v.timescale = 90000;
  v.all_sync = false;
  v.stsd = avc1_stsd();
  v.description_count = 1;
  v.chunk_runs = {{0, 0, 1, 1}};
  a.track_id = 2;
  a.kind = media::Mp4TrackKind::kAudio;
  a.timescale = 44100;
  a.stsd = mp4a_stsd();
  a.description_count = 1;
  a.chunk_runs = {{0, 0, 1, 1}};
  const uint32_t audio_frames = with_audio ? (frames * 1470 + 1023) / 1024 : 0;
  TestMedia out;
  out.file.assign(32, 0);
  uint32_t next_audio = 0;
  for (uint32_t first = 0; first < frames; first += 30) {
    for (uint32_t n = first; n < std::min(first + 30, frames); ++n) {
      v.chunk_offsets.push_back(out.file.size());  // a chunk per sample
      const bool key = n % gop == 0;
      const uint32_t nal = key ? 3000 + n % 50 : 200 + n % 300;
      v.sample_sizes.push_back(4 + nal);
      if (key) v.sync_samples.push_back(n);
      // 4-byte length, then an IDR (5) or non-IDR (1) slice NAL.
      out.file.insert(out.file.end(),
                      {static_cast<uint8_t>(nal >> 24), static_cast<uint8_t>(nal >> 16),
                       static_cast<uint8_t>(nal >> 8), static_cast<uint8_t>(nal),
                       static_cast<uint8_t>(key ? 0x65 : 0x41)});
      out.file.insert(out.file.end(), nal - 1, static_cast<uint8_t>(n));
    }
    const uint32_t audio_end =
        std::min(audio_frames, (std::min(first + 30, frames) * 1470 + 1023) / 1024);
    for (; next_audio < audio_end; ++next_audio) {
      a.chunk_offsets.push_back(out.file.size());
      a.sample_sizes.push_back(250 + next_audio % 40);
      out.file.insert(out.file.end(), 250 + next_audio % 40, static_cast<uint8_t>(next_audio));
    }
  }
  v.stts = {{0, frames, 3000, 0}};
  if (audio_frames > 0) a.stts = {{0, audio_frames, 1024, 0}};
  v.media_duration = uint64_t{frames} * 3000;
  v.presentation_end = int64_t(v.media_duration);
  if (b_frames) {
    // Decode order I P B B ..., presented I B B P: offsets 1, 3, 0, 0 frames.
    static const int32_t kPattern[] = {3000, 9000, 0, 0};
    for (uint32_t n = 0; n < frames; ++n) {
      const int32_t cts = n % gop == 0 ? 3000 : kPattern[n % 4];
      v.sample_cts_offsets.push_back(cts);
      v.max_cts_offset = std::max(v.max_cts_offset, cts);
      v.presentation_end = std::max(v.presentation_end, int64_t{n} * 3000 + cts + 3000);
    }
    v.media_start = 3000;
    v.edits = {{uint64_t{frames} * 100 / 3, 3000, 0x10000}};
  }
  a.media_duration = uint64_t{audio_frames} * 1024;
  a.presentation_end = int64_t(a.media_duration);
  out.index.movie_timescale = 1000;
  out.index.tracks.push_back(v);
  if (with_audio) out.index.tracks.push_back(a);
  out.index.file_size = out.file.size();
  return out;
}

}  // namespace cascade::vod::testing
