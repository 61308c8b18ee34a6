#include "media/flv.h"

#include <algorithm>
#include <cassert>

#include "core/byte_reader.h"
#include "core/byte_writer.h"

namespace cascade::flv {

// ---------------------------------------------------------------------------
// Writers

void write_file_header(bool has_audio, bool has_video, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  // FLV spec E.2: Signature "FLV", Version 1, TypeFlags, DataOffset 9.
  w.string("FLV");
  w.u8(1);
  w.u8(static_cast<uint8_t>((has_audio ? 0x04 : 0) | (has_video ? 0x01 : 0)));
  w.u32be(kFileHeaderSize);
  // FLV spec E.3: PreviousTagSize0 is always 0.
  w.u32be(0);
}

void write_tag_header(uint8_t* out, uint8_t type, uint32_t data_size, uint32_t timestamp_ms) {
  assert(data_size <= kMaxTagDataSize);
  // FLV spec E.4.1: Reserved(2) Filter(1) TagType(5), DataSize UI24,
  // Timestamp UI24 + TimestampExtended UI8 (the upper 8 bits), StreamID UI24 = 0.
  out[0] = type & 0x1F;
  store_u24be(out + 1, data_size);
  store_u24be(out + 4, timestamp_ms & 0xFFFFFF);
  out[7] = static_cast<uint8_t>(timestamp_ms >> 24);
  store_u24be(out + 8, 0);
}

void write_tag(uint8_t type, uint32_t timestamp_ms, std::span<const uint8_t> body,
               std::vector<uint8_t>& out) {
  assert(body.size() <= kMaxTagDataSize);
  const auto data_size = static_cast<uint32_t>(body.size());
  const size_t start = out.size();
  out.resize(start + kTagHeaderSize);
  write_tag_header(out.data() + start, type, data_size, timestamp_ms);
  out.insert(out.end(), body.begin(), body.end());
  // FLV spec E.3: PreviousTagSizeN = 11 + DataSize of the tag before it.
  ByteWriter(out).u32be(static_cast<uint32_t>(kTagHeaderSize) + data_size);
}

// ---------------------------------------------------------------------------
// Tag body parsers

namespace {

VideoCodec codec_from_fourcc(uint32_t fourcc) {
  switch (fourcc) {
    case kFourCcAvc:
      return VideoCodec::kH264;
    case kFourCcHevc:
      return VideoCodec::kHevc;
    case kFourCcAv1:
      return VideoCodec::kAv1;
    case kFourCcVp9:
      return VideoCodec::kVp9;
    default:
      return VideoCodec::kUnknown;
  }
}

VideoCodec legacy_video_codec(uint8_t codec_id) {
  // FLV spec E.4.3.1: CodecID.
  switch (codec_id) {
    case 2:
      return VideoCodec::kH263;
    case 3:
      return VideoCodec::kScreen;
    case 4:
      return VideoCodec::kVp6;
    case 5:
      return VideoCodec::kVp6Alpha;
    case 6:
      return VideoCodec::kScreen2;
    case 7:
      return VideoCodec::kH264;
    // Not in the FLV spec: CodecID 12 is the de-facto HEVC extension used by
    // Chinese CDNs and FFmpeg forks, with the same header layout as AVC.
    case 12:
      return VideoCodec::kHevc;
    default:
      return VideoCodec::kUnknown;
  }
}

// Enhanced RTMP v2, ExVideoTagHeader / ExAudioTagHeader: while the packet type
// is ModEx (7), skip a size-prefixed modifier and read the next
// PacketModExType(UB[4]) | PacketType(UB[4]) byte. Each pass consumes at least
// 3 bytes, so the loop is bounded by the input.
constexpr uint8_t kPacketTypeModEx = 7;
uint8_t skip_mod_ex(ByteReader& r, uint8_t packet_type) {
  while (packet_type == kPacketTypeModEx && r.ok()) {
    size_t size = size_t{r.u8()} + 1;
    if (size == 256) size = size_t{r.u16be()} + 1;
    r.skip(size);
    packet_type = r.u8() & 0x0F;
  }
  return packet_type;
}

// Enhanced RTMP v2: AvMultitrackType.
constexpr uint8_t kManyTracksManyCodecs = 2;

Result<VideoTagInfo> parse_ex_video_tag(uint8_t first, ByteReader& r) {
  VideoTagInfo info;
  info.enhanced = true;
  // Enhanced RTMP, ExVideoTagHeader: IsExHeader UB[1], FrameType UB[3],
  // VideoPacketType UB[4].
  info.frame_type = (first >> 4) & 0x07;
  uint8_t packet_type = skip_mod_ex(r, first & 0x0F);
  if (!r.ok()) return make_error("truncated Enhanced RTMP video ModEx header");

  constexpr uint8_t kMetadata = 4, kMultitrack = 6, kCommandFrame = 5;
  if (packet_type != kMetadata && info.frame_type == kCommandFrame) {
    // A command frame carries a UI8 VideoCommand and no FourCC or video data.
    r.u8();
    if (!r.ok()) return make_error("truncated Enhanced RTMP video command frame");
    info.packet = VideoPacket::kOther;
    info.header_size = r.position();
    return info;
  }
  if (packet_type == kMultitrack) {
    // AvMultitrackType UB[4] | VideoPacketType UB[4], then one FourCC for all
    // tracks unless each track names its own. Track bodies are not parsed.
    uint8_t b = r.u8();
    if ((b >> 4) != kManyTracksManyCodecs) info.fourcc = r.u32be();
    if (!r.ok()) return make_error("truncated Enhanced RTMP multitrack video header");
    info.codec = codec_from_fourcc(info.fourcc);
    info.packet = VideoPacket::kOther;
    info.header_size = r.position();
    return info;
  }
  info.fourcc = r.u32be();
  if (!r.ok()) return make_error("truncated Enhanced RTMP video header (missing FourCC)");
  info.codec = codec_from_fourcc(info.fourcc);
  switch (packet_type) {
    case 0:
      info.packet = VideoPacket::kSequenceStart;
      break;
    case 1:
      info.packet = VideoPacket::kCodedFrames;
      // ExVideoTagBody: only AVC and HEVC CodedFrames carry SI24 CompositionTime.
      if (info.fourcc == kFourCcAvc || info.fourcc == kFourCcHevc) {
        info.composition_time_ms = r.s24be();
        if (!r.ok()) return make_error("truncated Enhanced RTMP video composition time");
      }
      break;
    case 2:
      info.packet = VideoPacket::kSequenceEnd;
      break;
    case 3:  // CodedFramesX: composition time implicitly 0.
      info.packet = VideoPacket::kCodedFrames;
      break;
    case kMetadata:
      info.packet = VideoPacket::kMetadata;
      break;
    default:  // 5 MPEG2TSSequenceStart, reserved values
      info.packet = VideoPacket::kOther;
      break;
  }
  info.header_size = r.position();
  return info;
}

}  // namespace

Result<VideoTagInfo> parse_video_tag(std::span<const uint8_t> body) {
  if (body.empty()) return make_error("empty FLV video tag");
  ByteReader r(body);
  const uint8_t first = r.u8();
  if (first & 0x80) return parse_ex_video_tag(first, r);

  // FLV spec E.4.3.1: VIDEODATA = FrameType UB[4], CodecID UB[4], ...
  VideoTagInfo info;
  info.frame_type = first >> 4;
  const uint8_t codec_id = first & 0x0F;
  info.codec = legacy_video_codec(codec_id);
  if (info.frame_type == 5) {
    // FrameType 5 (video info/command frame): a UI8 command, no video data.
    r.u8();
    if (!r.ok()) return make_error("truncated FLV video command frame");
    info.packet = VideoPacket::kOther;
    info.header_size = r.position();
    return info;
  }
  if (codec_id == 7 || codec_id == 12) {
    // FLV spec E.4.3.1: AVCPacketType UI8, CompositionTime SI24.
    const uint8_t avc_packet_type = r.u8();
    const int32_t composition_time = r.s24be();
    if (!r.ok()) {
      return make_error("truncated AVC video tag header ({} bytes, need 5)", body.size());
    }
    switch (avc_packet_type) {
      case 0:
        info.packet = VideoPacket::kSequenceStart;
        break;
      case 1:
        info.packet = VideoPacket::kCodedFrames;
        break;
      case 2:
        info.packet = VideoPacket::kSequenceEnd;
        break;
      default:
        info.packet = VideoPacket::kOther;
        break;
    }
    // CompositionTime is only meaningful for NALU packets (otherwise 0).
    info.composition_time_ms = avc_packet_type == 1 ? composition_time : 0;
    info.header_size = r.position();
    return info;
  }
  info.packet = VideoPacket::kCodedFrames;
  info.header_size = r.position();
  return info;
}

Result<AudioTagInfo> parse_audio_tag(std::span<const uint8_t> body) {
  if (body.empty()) return make_error("empty FLV audio tag");
  ByteReader r(body);
  const uint8_t first = r.u8();
  AudioTagInfo info;
  // FLV spec E.4.2.1: SoundFormat UB[4], SoundRate UB[2], SoundSize UB[1], SoundType UB[1].
  info.codec = static_cast<AudioCodec>(first >> 4);
  if (info.codec == AudioCodec::kExHeader) {
    // Enhanced RTMP, ExAudioTagHeader: the low 4 bits are AudioPacketType.
    uint8_t packet_type = skip_mod_ex(r, first & 0x0F);
    constexpr uint8_t kMultitrack = 5;
    if (packet_type == kMultitrack) {
      // AvMultitrackType UB[4] | AudioPacketType UB[4], then a shared FourCC
      // unless each track names its own.
      uint8_t b = r.u8();
      packet_type = b & 0x0F;
      if ((b >> 4) != kManyTracksManyCodecs) info.fourcc = r.u32be();
    } else {
      info.fourcc = r.u32be();
    }
    if (!r.ok()) return make_error("truncated Enhanced RTMP audio header");
    info.sequence_header = packet_type == 0;  // AudioPacketType.SequenceStart
    info.header_size = r.position();
    return info;
  }
  info.sound_rate = (first >> 2) & 0x03;
  info.sound_size = (first >> 1) & 0x01;
  info.sound_type = first & 0x01;
  if (info.codec == AudioCodec::kAac) {
    // FLV spec E.4.2.2: AACPacketType UI8 (0 sequence header, 1 raw).
    const uint8_t aac_packet_type = r.u8();
    if (!r.ok()) return make_error("truncated AAC audio tag header (missing AACPacketType)");
    info.sequence_header = aac_packet_type == 0;
  }
  info.header_size = r.position();
  return info;
}

// ---------------------------------------------------------------------------
// Demuxer

FlvDemuxer::FlvDemuxer(size_t max_tag_size)
    : max_tag_size_(std::min<size_t>(max_tag_size, kMaxTagDataSize)) {}

Error FlvDemuxer::fail(Error error) {
  state_ = State::kFailed;
  error_ = error;
  return error;
}

Result<size_t> FlvDemuxer::feed(std::span<const uint8_t> bytes) {
  size_t pos = 0;
  for (;;) {
    const std::span<const uint8_t> rest = bytes.subspan(pos);
    switch (state_) {
      case State::kFailed:
        return error_;
      case State::kHeader: {
        if (rest.size() < kFileHeaderSize) return pos;
        // FLV spec E.2: Signature UI8[3] "FLV", Version UI8, TypeFlags UI8,
        // DataOffset UI32 (the header's own size).
        ByteReader r(rest);
        const std::string_view signature = r.string(3);
        const uint8_t version = r.u8();
        r.u8();  // TypeFlags: advisory only, tags say what is present.
        const uint32_t data_offset = r.u32be();
        if (signature != "FLV") return fail(make_error("not an FLV file (bad signature)"));
        if (version != 1) return fail(make_error("unsupported FLV version {}", version));
        if (data_offset < kFileHeaderSize) {
          return fail(
              make_error("FLV DataOffset {} is smaller than the 9-byte header", data_offset));
        }
        if (data_offset - kFileHeaderSize > max_tag_size_) {
          return fail(make_error("FLV DataOffset {} is too large", data_offset));
        }
        padding_left_ = data_offset - kFileHeaderSize;
        header_seen_ = true;
        pos += kFileHeaderSize;
        state_ = State::kHeaderPadding;
        break;
      }
      case State::kHeaderPadding: {
        const size_t n = std::min(rest.size(), padding_left_);
        pos += n;
        padding_left_ -= n;
        if (padding_left_ > 0) return pos;
        state_ = State::kPreviousTagSize0;
        break;
      }
      case State::kPreviousTagSize0: {
        if (rest.size() < kPreviousTagSizeSize) return pos;
        ByteReader r(rest);
        const uint32_t previous_tag_size = r.u32be();
        // FLV spec E.3: PreviousTagSize0 is always 0.
        if (previous_tag_size != 0) {
          return fail(make_error("FLV PreviousTagSize0 is {}, expected 0", previous_tag_size));
        }
        pos += kPreviousTagSizeSize;
        state_ = State::kTags;
        break;
      }
      case State::kTags: {
        if (rest.size() < kTagHeaderSize) return pos;
        // FLV spec E.4.1: FLVTAG header.
        ByteReader r(rest);
        const uint8_t flags = r.u8();
        const uint32_t data_size = r.u24be();
        const uint32_t timestamp = r.u24be();
        const uint32_t timestamp_extended = r.u8();
        r.u24be();  // StreamID, always 0
        if (flags & 0x20) {
          return fail(make_error("encrypted (Filter=1) FLV tags are not supported"));
        }
        if (data_size > max_tag_size_) {
          return fail(
              make_error("FLV tag data size {} exceeds the limit {}", data_size, max_tag_size_));
        }
        const size_t total = kTagHeaderSize + data_size + kPreviousTagSizeSize;
        if (rest.size() < total) return pos;
        const std::span<const uint8_t> body = r.bytes(data_size);
        const uint32_t previous_tag_size = r.u32be();
        const uint32_t expected = static_cast<uint32_t>(kTagHeaderSize) + data_size;
        // FLV spec E.3: PreviousTagSize is the size of the preceding tag.
        if (previous_tag_size != expected) {
          return fail(make_error("FLV PreviousTagSize mismatch: got {}, expected {}",
                                 previous_tag_size, expected));
        }
        tags_.push_back(FlvTag{static_cast<uint8_t>(flags & 0x1F),
                               timestamp | (timestamp_extended << 24), SharedBytes::copy_of(body)});
        pos += total;
        break;
      }
    }
  }
}

std::optional<FlvTag> FlvDemuxer::next_tag() {
  if (tags_.empty()) return std::nullopt;
  FlvTag tag = std::move(tags_.front());
  tags_.pop_front();
  return tag;
}

}  // namespace cascade::flv
