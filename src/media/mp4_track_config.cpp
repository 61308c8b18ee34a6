#include "media/mp4_track_config.h"

#include <optional>
#include <span>
#include <string>

#include "core/byte_order.h"
#include "core/byte_reader.h"
#include "media/mp4_box_writer.h"

namespace cascade::media {
namespace {

std::string fourcc(uint32_t type) {
  std::string name;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char c = static_cast<char>(type >> shift & 0xFF);
    name += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return name;
}

struct Box {
  uint32_t type = 0;
  std::span<const uint8_t> payload;
};

// 14496-12 4.2: the boxes one after another in `bytes`. A size of 0 runs to
// the end; 64-bit sizes do not occur inside sample entries and are refused.
Result<std::vector<Box>> boxes_in(std::span<const uint8_t> bytes) {
  std::vector<Box> boxes;
  while (!bytes.empty()) {
    // Some writers pad a sample entry with zero bytes after its boxes.
    if (bytes.size() < 8) {
      for (uint8_t b : bytes) {
        if (b != 0) return make_error("truncated box in a sample entry");
      }
      break;
    }
    uint64_t size = load_u32be(bytes.data());
    const uint32_t type = load_u32be(bytes.data() + 4);
    if (size == 0) size = bytes.size();
    if (size == 1) return make_error("64-bit box size in a sample entry");
    if (size < 8 || size > bytes.size()) {
      return make_error("box '{}' in a sample entry has a bad size {}", fourcc(type), size);
    }
    boxes.push_back({type, bytes.subspan(8, size - 8)});
    bytes = bytes.subspan(size);
  }
  return boxes;
}

std::optional<std::span<const uint8_t>> child(const std::vector<Box>& boxes, uint32_t type) {
  for (const Box& box : boxes) {
    if (box.type == type) return box.payload;
  }
  return std::nullopt;
}

// The first entry of the track's stsd (8.5.2), after checking that no chunk
// uses another one.
Result<Box> first_sample_entry(const Mp4Track& track) {
  for (const Mp4ChunkRun& run : track.chunk_runs) {
    if (run.description_index != 1) {
      return make_error("the track uses sample description {} (only the first is supported)",
                        run.description_index);
    }
  }
  // The stsd box: an 8-byte header, version/flags, entry_count, entries.
  if (track.stsd.size() < 16) return make_error("truncated stsd box");
  auto entries = boxes_in(std::span<const uint8_t>(track.stsd).subspan(16));
  if (!entries) return entries.error();
  if (entries->empty()) return make_error("stsd has no sample entry");
  return entries->front();
}

// 14496-12 8.5.2.2 SampleEntry + 12.1.3 VisualSampleEntry: 78 bytes of
// fields before the child boxes; width and height at 24 and 26.
constexpr size_t kVisualSampleEntrySize = 78;

// 8.5.2.2 SampleEntry + 12.2.3 AudioSampleEntry: 28 bytes of fields. In
// QuickTime files the first reserved u16 is a version: 1 adds 16 bytes
// (samples per packet, bytes per packet/frame/sample), 2 adds 36.
constexpr size_t kAudioSampleEntrySize = 28;

// 14496-1 8.3.3: a descriptor's tag and sizeOfInstance (1 to 4 bytes, 7
// bits each, the top bit meaning "more").
struct Descriptor {
  uint8_t tag = 0;
  std::span<const uint8_t> body;
};
Result<Descriptor> read_descriptor(ByteReader& r) {
  Descriptor d;
  d.tag = r.u8();
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) {
    const uint8_t b = r.u8();
    size = size << 7 | (b & 0x7F);
    if (!(b & 0x80)) break;
    if (i == 3) return make_error("esds descriptor size longer than 4 bytes");
  }
  d.body = r.bytes(size);
  if (!r.ok()) return make_error("truncated esds descriptor");
  return d;
}

struct EsdsInfo {
  uint8_t object_type = 0;  // objectTypeIndication (14496-1 Table 5)
  std::span<const uint8_t> specific_info;
};

// 14496-14 5.6 ESDBox: version/flags, then an ES_Descriptor (14496-1
// 7.2.6.5) holding a DecoderConfigDescriptor (7.2.6.6) holding an optional
// DecoderSpecificInfo (7.2.6.7).
Result<EsdsInfo> parse_esds(std::span<const uint8_t> esds) {
  ByteReader r(esds);
  r.skip(4);
  auto es = read_descriptor(r);
  if (!es) return es.error();
  if (es->tag != 0x03) return make_error("esds does not start with an ES_Descriptor");
  ByteReader e(es->body);
  e.skip(2);  // ES_ID
  const uint8_t flags = e.u8();
  if (flags & 0x80) e.skip(2);       // dependsOn_ES_ID
  if (flags & 0x40) e.skip(e.u8());  // URL
  if (flags & 0x20) e.skip(2);       // OCR_ES_Id
  if (!e.ok()) return make_error("truncated ES_Descriptor");
  while (!e.empty()) {
    auto d = read_descriptor(e);
    if (!d) return d.error();
    if (d->tag != 0x04) continue;
    ByteReader c(d->body);
    EsdsInfo info;
    info.object_type = c.u8();
    c.skip(12);  // streamType/upStream, bufferSizeDB, maxBitrate, avgBitrate
    if (!c.ok()) return make_error("truncated DecoderConfigDescriptor");
    while (!c.empty()) {
      auto s = read_descriptor(c);
      if (!s) return s.error();
      if (s->tag == 0x05) {
        info.specific_info = s->body;
        break;
      }
    }
    return info;
  }
  return make_error("esds has no DecoderConfigDescriptor");
}

Result<AudioTrackConfig> aac_config(std::span<const uint8_t> specific_info) {
  if (specific_info.empty()) return make_error("AAC without an AudioSpecificConfig");
  return audio_config_from_specific_config(SharedBytes::copy_of(specific_info),
                                           "AudioSpecificConfig");
}

// MPEG audio Layer III: the version follows from the sample rate (11172-3,
// 13818-3 and the MPEG-2.5 extension each have their own three rates).
Result<AudioTrackConfig> mp3_config(uint32_t sample_rate, uint16_t channels) {
  AudioTrackConfig config;
  config.codec = AudioCodecId::kMp3;
  switch (sample_rate) {
    case 32000:
    case 44100:
    case 48000:
      config.mpeg_audio_version = 1;
      break;
    case 16000:
    case 22050:
    case 24000:
      config.mpeg_audio_version = 2;
      break;
    case 8000:
    case 11025:
    case 12000:
      config.mpeg_audio_version = 25;
      break;
    default:
      return make_error("MPEG audio at {} Hz", sample_rate);
  }
  if (channels < 1 || channels > 2) return make_error("MPEG audio with {} channels", channels);
  config.sample_rate = sample_rate;
  config.channels = static_cast<uint8_t>(channels);
  config.samples_per_frame = config.mpeg_audio_version == 1 ? 1152 : 576;
  config.codec_string = "mp4a.40.34";  // as HLS players name MP3 (av_sample.cpp)
  return config;
}

}  // namespace

Result<VideoTrackConfig> mp4_video_track_config(const Mp4Track& track) {
  auto entry = first_sample_entry(track);
  if (!entry) return entry.error();
  const uint32_t type = entry->type;
  const bool avc = type == box_type("avc1") || type == box_type("avc3");
  const bool hevc = type == box_type("hvc1") || type == box_type("hev1");
  if (!avc && !hevc) {
    return make_error("video codec '{}' is not supported (H.264 and HEVC are)", fourcc(type));
  }
  if (entry->payload.size() < kVisualSampleEntrySize) {
    return make_error("truncated '{}' sample entry", fourcc(type));
  }
  auto children = boxes_in(entry->payload.subspan(kVisualSampleEntrySize));
  if (!children) return children.error();
  const auto record = child(*children, avc ? box_type("avcC") : box_type("hvcC"));
  if (!record)
    return make_error("'{}' sample entry without {}", fourcc(type), avc ? "avcC" : "hvcC");

  auto made = video_config_from_record(avc ? VideoCodecId::kH264 : VideoCodecId::kHevc,
                                       SharedBytes::copy_of(*record), avc ? "avcC" : "hvcC");
  if (!made) return made.error();
  VideoTrackConfig config = std::move(made.value());
  if (config.width == 0 || config.height == 0) {
    // The SPS did not parse: the sample entry's size.
    config.width = load_u16be(entry->payload.data() + 24);
    config.height = load_u16be(entry->payload.data() + 26);
  }
  return config;
}

Result<AudioTrackConfig> mp4_audio_track_config(const Mp4Track& track) {
  auto entry = first_sample_entry(track);
  if (!entry) return entry.error();
  const uint32_t type = entry->type;
  const bool mp4a = type == box_type("mp4a");
  const bool mp3 = type == box_type(".mp3");
  if (!mp4a && !mp3) {
    return make_error("audio codec '{}' is not supported (AAC and MP3 are)", fourcc(type));
  }
  const std::span<const uint8_t> fields = entry->payload;
  if (fields.size() < kAudioSampleEntrySize) {
    return make_error("truncated '{}' sample entry", fourcc(type));
  }
  const uint16_t version = load_u16be(fields.data() + 8);
  const uint16_t channels = load_u16be(fields.data() + 16);
  const uint32_t sample_rate = load_u32be(fields.data() + 24) >> 16;
  const size_t extra = version == 1 ? 16 : version == 2 ? 36 : 0;
  if (fields.size() < kAudioSampleEntrySize + extra) {
    return make_error("truncated '{}' sample entry (version {})", fourcc(type), version);
  }
  if (mp3) return mp3_config(sample_rate != 0 ? sample_rate : track.timescale, channels);

  auto children = boxes_in(fields.subspan(kAudioSampleEntrySize + extra));
  if (!children) return children.error();
  std::optional<std::span<const uint8_t>> esds = child(*children, box_type("esds"));
  if (!esds) {
    // QuickTime: mp4a { wave { frma, mp4a, esds, ... } }.
    if (auto wave = child(*children, box_type("wave"))) {
      auto inside = boxes_in(*wave);
      if (!inside) return inside.error();
      esds = child(*inside, box_type("esds"));
    }
  }
  if (!esds) return make_error("'mp4a' sample entry without esds");
  auto info = parse_esds(*esds);
  if (!info) return info.error();
  switch (info->object_type) {
    case 0x40:  // 14496-3 audio
    case 0x66:  // 13818-7 AAC Main, LC, SSR profiles
    case 0x67:
    case 0x68:
      return aac_config(info->specific_info);
    case 0x69:  // 13818-3
    case 0x6B:  // 11172-3
      return mp3_config(sample_rate != 0 ? sample_rate : track.timescale, channels);
    default:
      return make_error("audio objectTypeIndication 0x{:02x} is not supported (AAC and MP3 are)",
                        info->object_type);
  }
}

}  // namespace cascade::media
