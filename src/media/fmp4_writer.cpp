#include "media/fmp4_writer.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <vector>

#include "media/mp4_box_writer.h"

namespace cascade::media {

namespace {

// 14496-12 6.2.2: the unity matrix {1, 0, 0, 0, 1, 0, 0, 0, 1} in 16.16 and
// 2.30 fixed point, shared by mvhd and tkhd.
void write_unity_matrix(Mp4BoxWriter& w) {
  const uint32_t matrix[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (uint32_t v : matrix) w.u32be(v);
}

// 14496-12 4.3 (FileTypeBox); brands from Annex E. 'iso6': the fragments
// use tfdt (FFmpeg signals tfdt with 'iso6'), 'iso5': default-base-is-moof
// (FFmpeg's brand for it); these brand levels also cover trun version 1.
// 'cmfc': the CMAF structural brand (ISO/IEC 23000-19). 'mp41': the MP4 file
// format (14496-14), for players that look for an MP4 brand.
void write_ftyp(Mp4BoxWriter& w) {
  const size_t ftyp = w.begin_box(box_type("ftyp"));
  w.u32be(box_type("iso6"));  // major_brand
  w.u32be(0);                 // minor_version
  for (uint32_t brand : {box_type("iso6"), box_type("iso5"), box_type("cmfc"), box_type("mp41")}) {
    w.u32be(brand);
  }
  w.end_box(ftyp);
}

// 14496-12 8.2.2 (MovieHeaderBox), version 0. Live: duration 0.
void write_mvhd(Mp4BoxWriter& w, uint32_t next_track_id) {
  const size_t mvhd = w.begin_full_box(box_type("mvhd"), 0, 0);
  w.u32be(0);  // creation_time
  w.u32be(0);  // modification_time
  w.u32be(kFmp4MovieTimescale);
  w.u32be(0);           // duration
  w.u32be(0x00010000);  // rate 1.0
  w.u16be(0x0100);      // volume 1.0
  w.zeros(2 + 8);       // reserved
  write_unity_matrix(w);
  w.zeros(6 * 4);  // pre_defined
  w.u32be(next_track_id);
  w.end_box(mvhd);
}

struct TrackHeader {
  uint32_t track_id = 0;
  bool audio = false;
  uint32_t timescale = 0;
  uint32_t width = 0;  // video only
  uint32_t height = 0;
};

// 14496-12 8.3.2 (TrackHeaderBox), version 0, flags track_enabled |
// track_in_movie. Live: duration 0. width/height are 16.16 fixed point.
void write_tkhd(Mp4BoxWriter& w, const TrackHeader& track) {
  const size_t tkhd = w.begin_full_box(box_type("tkhd"), 0, 0x000003);
  w.u32be(0);  // creation_time
  w.u32be(0);  // modification_time
  w.u32be(track.track_id);
  w.u32be(0);                         // reserved
  w.u32be(0);                         // duration
  w.zeros(8);                         // reserved
  w.u16be(0);                         // layer
  w.u16be(0);                         // alternate_group
  w.u16be(track.audio ? 0x0100 : 0);  // volume: 1.0 for audio tracks, else 0
  w.u16be(0);                         // reserved
  write_unity_matrix(w);
  // 16.16 fixed point; sizes past 65535 (not a real video) are clamped.
  w.u32be(std::min<uint32_t>(track.width, 0xFFFF) << 16);
  w.u32be(std::min<uint32_t>(track.height, 0xFFFF) << 16);
  w.end_box(tkhd);
}

// 14496-12 8.4.2 (MediaHeaderBox), version 0. Live: duration 0.
void write_mdhd(Mp4BoxWriter& w, uint32_t timescale) {
  const size_t mdhd = w.begin_full_box(box_type("mdhd"), 0, 0);
  w.u32be(0);  // creation_time
  w.u32be(0);  // modification_time
  w.u32be(timescale);
  w.u32be(0);  // duration
  // pad(1) + ISO-639-2/T language as three 5-bit (char - 0x60) values: 'und'.
  w.u16be(('u' - 0x60) << 10 | ('n' - 0x60) << 5 | ('d' - 0x60));
  w.u16be(0);  // pre_defined
  w.end_box(mdhd);
}

// 14496-12 8.4.3 (HandlerBox).
void write_hdlr(Mp4BoxWriter& w, bool audio) {
  const size_t hdlr = w.begin_full_box(box_type("hdlr"), 0, 0);
  w.u32be(0);  // pre_defined
  w.u32be(audio ? box_type("soun") : box_type("vide"));
  w.zeros(3 * 4);  // reserved
  w.string(audio ? "SoundHandler" : "VideoHandler");
  w.u8(0);  // name is a null-terminated UTF-8 string
  w.end_box(hdlr);
}

// 14496-12 8.7.1 (DataInformationBox) / 8.7.2 (DataReferenceBox): one
// 'url ' entry with flags 1, "media data in the same file".
void write_dinf(Mp4BoxWriter& w) {
  const size_t dinf = w.begin_box(box_type("dinf"));
  const size_t dref = w.begin_full_box(box_type("dref"), 0, 0);
  w.u32be(1);  // entry_count
  w.end_box(w.begin_full_box(box_type("url "), 0, 0x000001));
  w.end_box(dref);
  w.end_box(dinf);
}

// 14496-12 8.5.2.2 (SampleEntry): reserved(8)[6], data_reference_index 1
// (the 'url ' entry).
void write_sample_entry_header(Mp4BoxWriter& w) {
  w.zeros(6);
  w.u16be(1);
}

// 14496-12 12.1.3 (VisualSampleEntry) with its decoder configuration box:
// ISO/IEC 14496-15 5.4.2 ('avc1' + 'avcC') or 8.4.1 ('hvc1' + 'hvcC'). The
// record is written verbatim. 'hvc1' means every parameter set is in the
// hvcC arrays (8.4.1.1): true of records from RTMP/FLV sequence headers;
// encoders that also repeat them in-band are decoded fine in practice.
void write_visual_sample_entry(Mp4BoxWriter& w, const VideoTrackConfig& video) {
  const bool hevc = video.codec == VideoCodecId::kHevc;
  const size_t entry = w.begin_box(hevc ? box_type("hvc1") : box_type("avc1"));
  write_sample_entry_header(w);
  w.u16be(0);      // pre_defined
  w.u16be(0);      // reserved
  w.zeros(3 * 4);  // pre_defined
  w.u16be(static_cast<uint16_t>(std::min<uint32_t>(video.width, 0xFFFF)));
  w.u16be(static_cast<uint16_t>(std::min<uint32_t>(video.height, 0xFFFF)));
  w.u32be(0x00480000);  // horizresolution 72 dpi
  w.u32be(0x00480000);  // vertresolution 72 dpi
  w.u32be(0);           // reserved
  w.u16be(1);           // frame_count
  w.zeros(32);          // compressorname: empty (length byte 0, padding)
  w.u16be(0x0018);      // depth: colour, no alpha
  w.u16be(0xFFFF);      // pre_defined = -1
  const size_t config = w.begin_box(hevc ? box_type("hvcC") : box_type("avcC"));
  w.bytes(video.record.span());
  w.end_box(config);
  w.end_box(entry);
}

// ISO/IEC 14496-1 8.3.3: sizeOfInstance, 7 bits per byte, most significant
// first, a set top bit meaning "another byte follows".
size_t descriptor_size_length(size_t size) {
  size_t length = 1;
  while (size >> (7 * length)) ++length;
  return length;
}

void write_descriptor_header(Mp4BoxWriter& w, uint8_t tag, size_t size) {
  w.u8(tag);
  for (size_t i = descriptor_size_length(size); i-- > 0;) {
    w.u8(static_cast<uint8_t>(((size >> (7 * i)) & 0x7F) | (i ? 0x80 : 0)));
  }
}

size_t descriptor_total_size(size_t payload_size) {
  return 1 + descriptor_size_length(payload_size) + payload_size;
}

// ISO/IEC 14496-14 5.6 (ESDBox) holding an ES_Descriptor (14496-1 7.2.6.5):
//   ES_Descriptor (tag 3): ES_ID 0 (14496-14: 0 as stored in a file; ids
//     are assigned only when built into a stream), no dependence/URL/OCR, priority 0.
//   DecoderConfigDescriptor (tag 4, 7.2.6.6): objectTypeIndication 0x40
//     (14496-3 audio, i.e. AAC), 0x6B (11172-3, MPEG-1 audio) or 0x69
//     (13818-3, MPEG-2 audio; also carries the non-standard MPEG-2.5);
//     streamType 5 (AudioStream), upStream 0, reserved 1. Buffer size and
//     bitrates are unknown for a live relay: 0.
//   DecoderSpecificInfo (tag 5, 7.2.6.7): the AudioSpecificConfig; absent
//     for MP3, whose frames describe themselves.
//   SLConfigDescriptor (tag 6, 7.3.2.3): predefined 2, the value 14496-14 requires
//     in MP4 files.
void write_esds(Mp4BoxWriter& w, const AudioTrackConfig& audio) {
  const bool aac = audio.codec == AudioCodecId::kAac;
  const uint8_t object_type = aac ? 0x40 : audio.mpeg_audio_version == 1 ? 0x6B : 0x69;
  const auto specific_info = audio.specific_config.span();
  const bool has_specific_info = aac && !specific_info.empty();

  const size_t decoder_config_size =
      13 + (has_specific_info ? descriptor_total_size(specific_info.size()) : 0);
  const size_t sl_config_size = 1;
  const size_t es_size =
      3 + descriptor_total_size(decoder_config_size) + descriptor_total_size(sl_config_size);

  const size_t esds = w.begin_full_box(box_type("esds"), 0, 0);
  write_descriptor_header(w, 0x03, es_size);
  w.u16be(0);  // ES_ID
  w.u8(0);     // streamDependenceFlag, URL_Flag, OCRstreamFlag, streamPriority
  write_descriptor_header(w, 0x04, decoder_config_size);
  w.u8(object_type);
  w.u8(0x05 << 2 | 0x01);  // streamType 5, upStream 0, reserved 1
  w.u24be(0);              // bufferSizeDB
  w.u32be(0);              // maxBitrate
  w.u32be(0);              // avgBitrate
  if (has_specific_info) {
    write_descriptor_header(w, 0x05, specific_info.size());
    w.bytes(specific_info);
  }
  write_descriptor_header(w, 0x06, sl_config_size);
  w.u8(0x02);  // predefined: reserved for use in MP4 files
  w.end_box(esds);
}

// 14496-12 12.2.3 (AudioSampleEntry, version 0) 'mp4a' (14496-14 5.6).
// samplerate is 16.16 fixed point and cannot hold rates past 65535 Hz: those
// are written as 0, as FFmpeg does; the real rate is the mdhd timescale and,
// for AAC, in the AudioSpecificConfig, which decoders use.
void write_audio_sample_entry(Mp4BoxWriter& w, const AudioTrackConfig& audio) {
  const size_t entry = w.begin_box(box_type("mp4a"));
  write_sample_entry_header(w);
  w.zeros(2 * 4);  // reserved
  w.u16be(audio.channels);
  w.u16be(16);  // samplesize
  w.u16be(0);   // pre_defined
  w.u16be(0);   // reserved
  w.u32be(audio.sample_rate <= 0xFFFF ? audio.sample_rate << 16 : 0);
  write_esds(w, audio);
  w.end_box(entry);
}

// 14496-12 8.5.1 (SampleTableBox): the sample description and, since every
// sample is in a movie fragment (8.8), empty stts (8.6.1.2), stsc (8.7.4),
// stsz (8.7.3) and stco (8.7.5).
void write_stbl(Mp4BoxWriter& w, const TrackSet& tracks, bool audio) {
  const size_t stbl = w.begin_box(box_type("stbl"));
  // 8.5.2: SampleDescriptionBox with one entry.
  const size_t stsd = w.begin_full_box(box_type("stsd"), 0, 0);
  w.u32be(1);  // entry_count
  if (audio) {
    write_audio_sample_entry(w, *tracks.audio);
  } else {
    write_visual_sample_entry(w, *tracks.video);
  }
  w.end_box(stsd);
  for (uint32_t type : {box_type("stts"), box_type("stsc")}) {
    const size_t box = w.begin_full_box(type, 0, 0);
    w.u32be(0);  // entry_count
    w.end_box(box);
  }
  const size_t stsz = w.begin_full_box(box_type("stsz"), 0, 0);
  w.u32be(0);  // sample_size: sizes are per sample
  w.u32be(0);  // sample_count
  w.end_box(stsz);
  const size_t stco = w.begin_full_box(box_type("stco"), 0, 0);
  w.u32be(0);  // entry_count
  w.end_box(stco);
  w.end_box(stbl);
}

// 14496-12 8.3.1 (TrackBox): tkhd, mdia { mdhd, hdlr, minf }.
void write_trak(Mp4BoxWriter& w, const TrackSet& tracks, const TrackHeader& track) {
  const size_t trak = w.begin_box(box_type("trak"));
  write_tkhd(w, track);
  const size_t mdia = w.begin_box(box_type("mdia"));
  write_mdhd(w, track.timescale);
  write_hdlr(w, track.audio);
  const size_t minf = w.begin_box(box_type("minf"));
  if (track.audio) {
    // 12.2.2 (SoundMediaHeaderBox): balance 0 (centre), reserved.
    const size_t smhd = w.begin_full_box(box_type("smhd"), 0, 0);
    w.u16be(0);
    w.u16be(0);
    w.end_box(smhd);
  } else {
    // 12.1.2 (VideoMediaHeaderBox): flags 1; graphicsmode 0 (copy), opcolor 0.
    const size_t vmhd = w.begin_full_box(box_type("vmhd"), 0, 0x000001);
    w.zeros(2 + 3 * 2);
    w.end_box(vmhd);
  }
  write_dinf(w);
  write_stbl(w, tracks, track.audio);
  w.end_box(minf);
  w.end_box(mdia);
  w.end_box(trak);
}

// 14496-12 8.8.3 (TrackExtendsBox): sample description 1; durations, sizes
// and flags all come per sample in each trun.
void write_trex(Mp4BoxWriter& w, uint32_t track_id) {
  const size_t trex = w.begin_full_box(box_type("trex"), 0, 0);
  w.u32be(track_id);
  w.u32be(1);  // default_sample_description_index
  w.u32be(0);  // default_sample_duration
  w.u32be(0);  // default_sample_size
  w.u32be(0);  // default_sample_flags
  w.end_box(trex);
}

// --- Fragments ---

// 14496-12 8.8.3.1 sample flags: is_leading(2) sample_depends_on(2)
// sample_is_depended_on(2) sample_has_redundancy(2) padding(3)
// sample_is_non_sync_sample(1) degradation_priority(16).
constexpr uint32_t kSyncSampleFlags = 0x02000000;     // depends_on 2 (I-frame)
constexpr uint32_t kNonSyncSampleFlags = 0x01010000;  // depends_on 1, non-sync

// 14496-12 8.8.7 tfhd flags; 8.8.8 trun flags.
constexpr uint32_t kTfhdDefaultBaseIsMoof = 0x020000;
constexpr uint32_t kTrunDataOffset = 0x000001;
constexpr uint32_t kTrunSampleDuration = 0x000100;
constexpr uint32_t kTrunSampleSize = 0x000200;
constexpr uint32_t kTrunSampleFlags = 0x000400;
constexpr uint32_t kTrunCompositionOffset = 0x000800;

uint32_t clamp_u32(int64_t v) {
  return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, std::numeric_limits<uint32_t>::max()));
}

int32_t clamp_i32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

uint64_t samples_size(std::span<const AvSample> samples) {
  uint64_t size = 0;
  for (const AvSample& sample : samples) size += sample.data.size();
  return size;
}

// Per-sample fields of one track's trun.
struct TrunSample {
  uint32_t duration = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
  int32_t composition_offset = 0;
};

// 14496-12 8.8.6 (TrackFragmentBox): tfhd (8.8.7) with default-base-is-moof,
// so trun data offsets count from the first byte of the moof; tfdt (8.8.12)
// version 1 (64-bit baseMediaDecodeTime); trun (8.8.8) version 1 (signed
// composition offsets). Returns the offset of trun's data_offset field, to
// patch once the moof size is known.
size_t write_traf(Mp4BoxWriter& w, uint32_t track_id, uint64_t base_media_decode_time,
                  const std::vector<TrunSample>& samples, bool composition_offsets) {
  const size_t traf = w.begin_box(box_type("traf"));
  const size_t tfhd = w.begin_full_box(box_type("tfhd"), 0, kTfhdDefaultBaseIsMoof);
  w.u32be(track_id);
  w.end_box(tfhd);
  const size_t tfdt = w.begin_full_box(box_type("tfdt"), 1, 0);
  w.u64be(base_media_decode_time);
  w.end_box(tfdt);
  const uint32_t flags = kTrunDataOffset | kTrunSampleDuration | kTrunSampleSize |
                         kTrunSampleFlags | (composition_offsets ? kTrunCompositionOffset : 0);
  const size_t trun = w.begin_full_box(box_type("trun"), 1, flags);
  w.u32be(static_cast<uint32_t>(samples.size()));  // sample_count
  const size_t data_offset_at = w.size();
  w.u32be(0);  // data_offset, patched by the caller
  for (const TrunSample& sample : samples) {
    w.u32be(sample.duration);
    w.u32be(sample.size);
    w.u32be(sample.flags);
    if (composition_offsets) w.u32be(static_cast<uint32_t>(sample.composition_offset));
  }
  w.end_box(trun);
  w.end_box(traf);
  return data_offset_at;
}

std::vector<TrunSample> video_trun_samples(std::span<const AvSample> video,
                                           MediaTimeMs video_end_dts) {
  constexpr int64_t kTicksPerMs = kFmp4VideoTimescale / 1000;
  std::vector<TrunSample> out(video.size());
  for (size_t i = 0; i < video.size(); ++i) {
    const MediaTimeMs next_dts = i + 1 < video.size() ? video[i + 1].dts : video_end_dts;
    out[i].duration = clamp_u32((next_dts - video[i].dts) * kTicksPerMs);
    out[i].size = static_cast<uint32_t>(video[i].data.size());
    out[i].flags = video[i].keyframe ? kSyncSampleFlags : kNonSyncSampleFlags;
    out[i].composition_offset = clamp_i32(int64_t{video[i].cts_ms} * kTicksPerMs);
  }
  return out;
}

std::vector<TrunSample> audio_trun_samples(std::span<const AvSample> audio,
                                           const AudioTrackConfig& config) {
  std::vector<TrunSample> out(audio.size());
  for (size_t i = 0; i < audio.size(); ++i) {
    out[i].duration = config.samples_per_frame;
    out[i].size = static_cast<uint32_t>(audio[i].data.size());
    out[i].flags = kSyncSampleFlags;
  }
  return out;
}

// round(dts_ms * sample_rate / 1000), at least 0.
uint64_t audio_decode_time(MediaTimeMs dts, uint32_t sample_rate) {
  if (dts <= 0) return 0;
  return (static_cast<uint64_t>(dts) * sample_rate + 500) / 1000;
}

}  // namespace

SharedBytes write_fmp4_init_segment(const TrackSet& tracks) {
  if (!tracks.video && !tracks.audio) return {};
  std::vector<uint8_t> out;
  out.reserve(1024 + (tracks.video ? tracks.video->record.size() : 0) +
              (tracks.audio ? tracks.audio->specific_config.size() : 0));
  Mp4BoxWriter w(out);
  write_ftyp(w);

  // 14496-12 8.2.1 (MovieBox).
  const size_t moov = w.begin_box(box_type("moov"));
  const uint32_t track_count = (tracks.video ? 1 : 0) + (tracks.audio ? 1 : 0);
  write_mvhd(w, track_count + 1);
  if (tracks.video) {
    write_trak(w, tracks,
               {.track_id = kFmp4VideoTrackId,
                .audio = false,
                .timescale = kFmp4VideoTimescale,
                .width = tracks.video->width,
                .height = tracks.video->height});
  }
  if (tracks.audio) {
    assert(tracks.audio->sample_rate > 0);
    write_trak(w, tracks,
               {.track_id = fmp4_audio_track_id(tracks),
                .audio = true,
                .timescale = tracks.audio->sample_rate});
  }
  // 14496-12 8.8.1 (MovieExtendsBox): the tracks continue in movie fragments.
  const size_t mvex = w.begin_box(box_type("mvex"));
  if (tracks.video) write_trex(w, kFmp4VideoTrackId);
  if (tracks.audio) write_trex(w, fmp4_audio_track_id(tracks));
  w.end_box(mvex);
  w.end_box(moov);
  return SharedBytes::copy_of(out);
}

SharedBytes write_fmp4_fragment(const TrackSet& tracks, const Fmp4FragmentInput& input) {
  assert(input.video.empty() || tracks.video);
  assert(input.audio.empty() || tracks.audio);
  const std::span<const AvSample> video = tracks.video ? input.video : std::span<const AvSample>{};
  const std::span<const AvSample> audio = tracks.audio ? input.audio : std::span<const AvSample>{};
  if (video.empty() && audio.empty()) return {};

  std::vector<uint8_t> moof_bytes;
  moof_bytes.reserve(128 + 16 * (video.size() + audio.size()));
  Mp4BoxWriter w(moof_bytes);
  // 14496-12 8.8.4 (MovieFragmentBox), 8.8.5 (MovieFragmentHeaderBox).
  const size_t moof = w.begin_box(box_type("moof"));
  const size_t mfhd = w.begin_full_box(box_type("mfhd"), 0, 0);
  w.u32be(input.sequence_number);
  w.end_box(mfhd);
  size_t video_data_offset_at = 0;
  size_t audio_data_offset_at = 0;
  if (!video.empty()) {
    const MediaTimeMs first_dts = std::max<MediaTimeMs>(video.front().dts, 0);
    video_data_offset_at = write_traf(
        w, kFmp4VideoTrackId, static_cast<uint64_t>(first_dts) * (kFmp4VideoTimescale / 1000),
        video_trun_samples(video, input.video_end_dts), true);
  }
  if (!audio.empty()) {
    audio_data_offset_at =
        write_traf(w, fmp4_audio_track_id(tracks),
                   audio_decode_time(audio.front().dts, tracks.audio->sample_rate),
                   audio_trun_samples(audio, *tracks.audio), false);
  }
  w.end_box(moof);

  // 14496-12 8.1.1 (MediaDataBox): video samples, then audio samples.
  constexpr uint64_t kMdatHeaderSize = 8;
  const uint64_t video_size = samples_size(video);
  const uint64_t mdat_size = kMdatHeaderSize + video_size + samples_size(audio);
  const uint64_t total_size = moof_bytes.size() + mdat_size;
  // trun data_offset is a signed 32-bit field (8.8.8), so the whole fragment
  // stays under 2 GiB (also within 32-bit box sizes).
  if (total_size > uint64_t{std::numeric_limits<int32_t>::max()}) {
    assert(false && "fMP4 fragment over 2 GiB");
    return {};
  }
  // trun data_offset: from the first byte of the moof (default-base-is-moof)
  // to the track's first sample in the mdat.
  const uint64_t video_data_offset = moof_bytes.size() + kMdatHeaderSize;
  if (!video.empty()) {
    w.patch_u32be(video_data_offset_at, static_cast<uint32_t>(video_data_offset));
  }
  if (!audio.empty()) {
    w.patch_u32be(audio_data_offset_at, static_cast<uint32_t>(video_data_offset + video_size));
  }

  MutableBytes out(total_size);
  out.append(moof_bytes);
  uint8_t mdat_header[kMdatHeaderSize];
  store_u32be(mdat_header, static_cast<uint32_t>(mdat_size));
  store_u32be(mdat_header + 4, box_type("mdat"));
  out.append(mdat_header);
  for (const AvSample& sample : video) out.append(sample.data.span());
  for (const AvSample& sample : audio) out.append(sample.data.span());
  return std::move(out).freeze();
}

}  // namespace cascade::media
