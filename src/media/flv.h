// FLV (Adobe Flash Video File Format Specification v10.1, Annex E) and its
// Enhanced RTMP extensions (veovera enhanced-rtmp v1/v2): file/tag writers,
// audio/video tag body parsers, and a sans-I/O file demuxer.
//
// A tag body is byte-for-byte an RTMP audio/video message payload, so the
// body parsers serve both RTMP ingest and FLV files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"
#include "core/shared_bytes.h"

namespace cascade::flv {

// FLV spec E.4.1: TagType.
inline constexpr uint8_t kTagAudio = 8;
inline constexpr uint8_t kTagVideo = 9;
inline constexpr uint8_t kTagScript = 18;

// FLV spec E.2: the file header (9 bytes) followed by PreviousTagSize0 (E.3).
inline constexpr size_t kFileHeaderSize = 9;
inline constexpr size_t kTagHeaderSize = 11;
inline constexpr size_t kPreviousTagSizeSize = 4;
// FLV spec E.4.1: DataSize is UI24.
inline constexpr uint32_t kMaxTagDataSize = 0xFFFFFF;

// Enhanced RTMP FourCCs, as big-endian u32 ('h' 'v' 'c' '1' -> 0x68766331).
constexpr uint32_t fourcc(char a, char b, char c, char d) {
  return uint32_t(uint8_t(a)) << 24 | uint32_t(uint8_t(b)) << 16 | uint32_t(uint8_t(c)) << 8 |
         uint32_t(uint8_t(d));
}
inline constexpr uint32_t kFourCcAvc = fourcc('a', 'v', 'c', '1');
inline constexpr uint32_t kFourCcHevc = fourcc('h', 'v', 'c', '1');
inline constexpr uint32_t kFourCcAv1 = fourcc('a', 'v', '0', '1');
inline constexpr uint32_t kFourCcVp9 = fourcc('v', 'p', '0', '9');
inline constexpr uint32_t kFourCcVp8 = fourcc('v', 'p', '0', '8');
inline constexpr uint32_t kFourCcOpus = fourcc('O', 'p', 'u', 's');
inline constexpr uint32_t kFourCcFlac = fourcc('f', 'L', 'a', 'C');
inline constexpr uint32_t kFourCcAc3 = fourcc('a', 'c', '-', '3');
inline constexpr uint32_t kFourCcEac3 = fourcc('e', 'c', '-', '3');
inline constexpr uint32_t kFourCcMp3 = fourcc('.', 'm', 'p', '3');
inline constexpr uint32_t kFourCcAac = fourcc('m', 'p', '4', 'a');

// Appends the FLV header (E.2, version 1, DataOffset 9) and PreviousTagSize0:
// 13 bytes.
void write_file_header(bool has_audio, bool has_video, std::vector<uint8_t>& out);

// Writes an 11-byte tag header (E.4.1) to out[0..11): TagType, DataSize,
// Timestamp (lower 24 bits) + TimestampExtended (upper 8 bits), StreamID 0.
// Precondition: data_size <= kMaxTagDataSize.
void write_tag_header(uint8_t* out, uint8_t type, uint32_t data_size, uint32_t timestamp_ms);

// Appends a whole tag: header, body and the PreviousTagSize that follows it.
// Precondition: body.size() <= kMaxTagDataSize.
void write_tag(uint8_t type, uint32_t timestamp_ms, std::span<const uint8_t> body,
               std::vector<uint8_t>& out);

// --- Video tag bodies (FLV spec E.4.3.1, Enhanced RTMP "Enhanced Video") ---

enum class VideoCodec : uint8_t {
  kUnknown,
  kH263,
  kScreen,
  kVp6,
  kVp6Alpha,
  kScreen2,
  kH264,
  kHevc,
  kAv1,
  kVp9
};

enum class VideoPacket : uint8_t {
  kSequenceStart,  // AVC/HEVC/AV1/VP9 decoder configuration record
  kCodedFrames,
  kSequenceEnd,
  kMetadata,  // Enhanced RTMP: AMF-encoded metadata (e.g. colorInfo)
  kOther,     // command frames, MPEG2TSSequenceStart, multitrack, unknown types
};

struct VideoTagInfo {
  VideoCodec codec = VideoCodec::kUnknown;
  uint8_t frame_type = 0;  // 1 key, 2 inter, 3 disposable, 4 generated, 5 command
  VideoPacket packet = VideoPacket::kOther;
  int32_t composition_time_ms = 0;
  size_t header_size = 0;  // bytes before the codec data
  bool enhanced = false;
  uint32_t fourcc = 0;  // 0 if legacy
  bool keyframe() const { return frame_type == 1; }
};

// Parses the video tag header. Unknown codecs, FourCCs and packet types are
// reported (kUnknown / kOther) rather than rejected, so they can pass through.
// The non-standard legacy CodecID 12 (HEVC, as used by Chinese CDNs) is read
// like AVC. Enhanced RTMP v2 ModEx prefixes are skipped (counted in
// header_size); multitrack packets are kOther with the shared FourCC, if any,
// and header_size up to it (track bodies are not parsed).
// Errors: empty body, or a header cut short.
Result<VideoTagInfo> parse_video_tag(std::span<const uint8_t> body);

// --- Audio tag bodies (FLV spec E.4.2.1, Enhanced RTMP "Enhanced Audio") ---

enum class AudioCodec : uint8_t {
  kPcmPlatform = 0,
  kAdpcm = 1,
  kMp3 = 2,
  kPcmLe = 3,
  kNellymoser16Mono = 4,
  kNellymoser8Mono = 5,
  kNellymoser = 6,
  kG711A = 7,
  kG711U = 8,
  kExHeader = 9,
  kAac = 10,
  kSpeex = 11,
  kMp38k = 14,
  kDeviceSpecific = 15,
};

struct AudioTagInfo {
  AudioCodec codec = AudioCodec::kPcmPlatform;
  uint8_t sound_rate = 0;        // 0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz (0 for ExHeader)
  uint8_t sound_size = 0;        // 0 8-bit, 1 16-bit
  uint8_t sound_type = 0;        // 0 mono, 1 stereo
  bool sequence_header = false;  // AAC AACPacketType 0 / ExHeader SequenceStart
  size_t header_size = 0;        // bytes before the codec data
  uint32_t fourcc = 0;           // ExHeader only: 'Opus', 'fLaC', 'mp4a', ...
};

// Parses the audio tag header. Reserved SoundFormats 12 and 13 come back
// as-is (not enumerators). ExHeader: ModEx prefixes are skipped; multitrack
// reports the shared FourCC, if any. Errors: empty body, or a header cut short.
Result<AudioTagInfo> parse_audio_tag(std::span<const uint8_t> body);

// --- FLV file demuxer ---

struct FlvTag {
  uint8_t type = 0;  // TagType (kTagAudio, kTagVideo, kTagScript; others passed through)
  uint32_t timestamp_ms = 0;
  SharedBytes body;
};

// Sans-I/O FLV file demuxer. feed() consumes whole units only (the file
// header, or a tag with its PreviousTagSize) and keeps no copy of unconsumed
// bytes: the caller keeps them and feeds them again with more data, so the
// caller's buffer must hold at least one whole tag (max_tag_size + 15 bytes).
// After an error the demuxer stays failed and feed() repeats the error.
// Not thread-safe; one owner.
class FlvDemuxer {
 public:
  using FlvTag = flv::FlvTag;

  explicit FlvDemuxer(size_t max_tag_size = 16 << 20);

  // Returns the number of bytes consumed from the front of `bytes` and
  // appends every complete tag to the queue. Tags queued before an error in
  // the same call stay queued.
  Result<size_t> feed(std::span<const uint8_t> bytes);

  std::optional<FlvTag> next_tag();
  // True once a valid FLV file header has been consumed.
  bool header_seen() const { return header_seen_; }

 private:
  enum class State : uint8_t { kHeader, kHeaderPadding, kPreviousTagSize0, kTags, kFailed };

  Error fail(Error error);

  size_t max_tag_size_;
  State state_ = State::kHeader;
  bool header_seen_ = false;
  size_t padding_left_ = 0;
  Error error_;
  std::deque<FlvTag> tags_;
};

}  // namespace cascade::flv
