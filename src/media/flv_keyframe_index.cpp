#include "media/flv_keyframe_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>

#include "core/byte_order.h"
#include "core/byte_reader.h"
#include "media/amf0.h"

namespace cascade::flv {
namespace {

using media::Mp4Source;

// Bytes of a tag body looked at to classify it: enough for the legacy and
// Enhanced RTMP video/audio headers (with a ModEx prefix or two) and for a
// script tag's name.
constexpr size_t kBodyPrefix = 64;
// The smallest whole tag: header and PreviousTagSize, no body.
constexpr uint64_t kMinTagLength = kTagHeaderSize + kPreviousTagSizeSize;

// AMF0 2.4 string "onMetaData": marker, UI16 length, the name.
constexpr std::array<uint8_t, 13> kOnMetaDataName = {0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e',
                                                     't',  'a',  'D',  'a', 't', 'a'};

Status read_exact(Mp4Source& source, uint64_t offset, std::span<uint8_t> out) {
  auto got = source.read_at(offset, out);
  if (!got) return got.error();
  if (*got != out.size()) {
    return make_error("the file ends early at offset {} (changed while being read?)",
                      offset + *got);
  }
  return {};
}

// Reads a file front to back in windows of kWindow bytes, so a scan needs
// one read per window of small tags, or per large tag, and never holds more
// than one window.
class ChunkedReader {
 public:
  static constexpr size_t kWindow = 64 * 1024;

  ChunkedReader(Mp4Source& source, uint64_t file_size) : source_(source), file_size_(file_size) {}

  // [offset, offset + n) lies inside the file (the caller checks); n <= kWindow.
  Result<std::span<const uint8_t>> at(uint64_t offset, size_t n) {
    if (offset < start_ || offset + n > start_ + filled_) {
      buffer_.resize(kWindow);
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kWindow, file_size_ - offset));
      if (auto read = read_exact(source_, offset, std::span(buffer_).first(want)); !read) {
        filled_ = 0;
        return read.error();
      }
      start_ = offset;
      filled_ = want;
    }
    return std::span<const uint8_t>(buffer_).subspan(static_cast<size_t>(offset - start_), n);
  }

 private:
  Mp4Source& source_;
  uint64_t file_size_;
  std::vector<uint8_t> buffer_;
  uint64_t start_ = 0;
  size_t filled_ = 0;
};

struct TagHeader {
  uint8_t type = 0;  // TagType, the low 5 bits
  bool filtered = false;
  uint32_t data_size = 0;
  uint32_t timestamp_ms = 0;
};

// FLV spec E.4.1: Reserved UB[2], Filter UB[1], TagType UB[5], DataSize UI24,
// Timestamp UI24, TimestampExtended UI8 (the upper 8 bits), StreamID UI24.
TagHeader parse_tag_header(const uint8_t* p) {
  TagHeader h;
  h.type = p[0] & 0x1F;
  h.filtered = (p[0] & 0x20) != 0;
  h.data_size = load_u24be(p + 1);
  h.timestamp_ms = load_u24be(p + 4) | uint32_t{p[7]} << 24;
  return h;
}

struct WalkedTag {
  FlvTagSpan span;
  uint8_t type = 0;
  std::span<const uint8_t> body_prefix;  // up to kBodyPrefix bytes; valid until the next tag
};

// Walks the tag chain from a tag boundary, checking every tag lies whole
// inside the file and is followed by the PreviousTagSize E.3 requires.
class TagWalker {
 public:
  TagWalker(Mp4Source& source, uint64_t from, uint64_t file_size)
      : reader_(source, file_size), position_(from), file_size_(file_size) {}

  // The next tag, or nullopt at the end of the file.
  Result<std::optional<WalkedTag>> next() {
    if (position_ == file_size_) return std::optional<WalkedTag>{};
    if (position_ > file_size_ || file_size_ - position_ < kMinTagLength) {
      return make_error("truncated tag at offset {} ({} bytes left in the file)", position_,
                        position_ > file_size_ ? 0 : file_size_ - position_);
    }
    const size_t head_size = static_cast<size_t>(
        std::min<uint64_t>(kTagHeaderSize + kBodyPrefix, file_size_ - position_));
    auto head = reader_.at(position_, head_size);
    if (!head) return head.error();
    const TagHeader h = parse_tag_header(head->data());
    if (h.filtered) return make_error("encrypted tag (Filter=1) at offset {}", position_);
    const uint64_t end = position_ + kMinTagLength + h.data_size;
    if (end > file_size_) {
      return make_error("tag at offset {} (DataSize {}) runs past the end of the file ({} bytes)",
                        position_, h.data_size, file_size_);
    }
    const size_t prefix = std::min<size_t>(h.data_size, kBodyPrefix);
    std::copy_n(head->data() + kTagHeaderSize, prefix, prefix_.begin());
    auto back = reader_.at(end - kPreviousTagSizeSize, kPreviousTagSizeSize);
    if (!back) return back.error();
    const uint32_t previous_tag_size = load_u32be(back->data());
    // FLV spec E.3: PreviousTagSizeN = 11 + DataSize of tag N.
    if (previous_tag_size != kTagHeaderSize + h.data_size) {
      return make_error("PreviousTagSize {} after the tag at offset {} should be {}",
                        previous_tag_size, position_, kTagHeaderSize + h.data_size);
    }
    WalkedTag tag;
    tag.span = FlvTagSpan{position_, h.data_size, h.timestamp_ms};
    tag.type = h.type;
    tag.body_prefix = std::span<const uint8_t>(prefix_).first(prefix);
    position_ = end;
    return std::optional<WalkedTag>(tag);
  }

 private:
  ChunkedReader reader_;
  uint64_t position_;
  uint64_t file_size_;
  std::array<uint8_t, kBodyPrefix> prefix_{};
};

enum class TagRole : uint8_t {
  kOther,
  kMetadata,
  kVideoConfig,
  kVideoKeyframe,
  kVideoOther,
  kAudioConfig,
  kAudio,
};

// What a tag is to a seek, from its type and the first bytes of its body.
// A body too short to parse is not a seek point nor a configuration.
TagRole classify(uint8_t type, std::span<const uint8_t> body_prefix) {
  switch (type) {
    case kTagScript:
      return body_prefix.size() >= kOnMetaDataName.size() &&
                     std::equal(kOnMetaDataName.begin(), kOnMetaDataName.end(), body_prefix.begin())
                 ? TagRole::kMetadata
                 : TagRole::kOther;
    case kTagVideo: {
      auto info = parse_video_tag(body_prefix);
      if (!info) return TagRole::kVideoOther;
      if (info->packet == VideoPacket::kSequenceStart) return TagRole::kVideoConfig;
      if (info->keyframe() && info->packet == VideoPacket::kCodedFrames) {
        return TagRole::kVideoKeyframe;
      }
      return TagRole::kVideoOther;
    }
    case kTagAudio: {
      auto info = parse_audio_tag(body_prefix);
      if (!info) return TagRole::kOther;
      return info->sequence_header ? TagRole::kAudioConfig : TagRole::kAudio;
    }
    default:
      return TagRole::kOther;
  }
}

struct FileHeader {
  uint8_t type_flags = 0;
  uint64_t first_tag_offset = 0;
};

// FLV spec E.2: Signature "FLV", Version 1, TypeFlags, DataOffset (the
// header's size); E.3: PreviousTagSize0 = 0.
Result<FileHeader> read_file_header(Mp4Source& source, const FlvIndexLimits& limits) {
  const uint64_t size = source.size();
  if (size < kFileHeaderSize + kPreviousTagSizeSize) {
    return make_error("not an FLV file ({} bytes)", size);
  }
  std::array<uint8_t, kFileHeaderSize> header{};
  if (auto read = read_exact(source, 0, header); !read) return read.error();
  if (header[0] != 'F' || header[1] != 'L' || header[2] != 'V') {
    return make_error("not an FLV file (bad signature)");
  }
  if (header[3] != 1) return make_error("unsupported FLV version {}", header[3]);
  const uint32_t data_offset = load_u32be(header.data() + 5);
  if (data_offset < kFileHeaderSize || data_offset > limits.max_data_offset ||
      data_offset + kPreviousTagSizeSize > size) {
    return make_error("bad FLV DataOffset {}", data_offset);
  }
  std::array<uint8_t, kPreviousTagSizeSize> zero{};
  if (auto read = read_exact(source, data_offset, zero); !read) return read.error();
  if (load_u32be(zero.data()) != 0) {
    return make_error("PreviousTagSize0 is {}, expected 0", load_u32be(zero.data()));
  }
  return FileHeader{header[4], uint64_t{data_offset} + kPreviousTagSizeSize};
}

Status add_config(FlvKeyframeIndex& index, const FlvTagSpan& tag, bool video,
                  const FlvIndexLimits& limits) {
  if (index.video_configs.size() + index.audio_configs.size() >= limits.max_sequence_headers) {
    return make_error("more than {} sequence headers", limits.max_sequence_headers);
  }
  (video ? index.video_configs : index.audio_configs).push_back(tag);
  return {};
}

// Seek points being collected by a scan: offsets strictly increase by
// construction (the walk only moves forward).
struct PointList {
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> times_ms;
  bool monotonic = true;

  Status add(const FlvTagSpan& tag, const FlvIndexLimits& limits) {
    if (offsets.size() >= limits.max_seek_points) {
      return make_error("more than {} seek points", limits.max_seek_points);
    }
    if (!times_ms.empty() && tag.timestamp_ms < times_ms.back()) monotonic = false;
    offsets.push_back(tag.offset);
    times_ms.push_back(tag.timestamp_ms);
    return {};
  }
  void clear() {
    offsets = {};
    times_ms = {};
    monotonic = true;
  }
};

Result<FlvKeyframeIndex> scan_tags(Mp4Source& source, const FileHeader& header,
                                   const FlvIndexLimits& limits) {
  FlvKeyframeIndex index;
  index.file_size = source.size();
  index.first_tag_offset = header.first_tag_offset;
  index.type_flags = header.type_flags;
  index.origin = FlvIndexOrigin::kScan;
  PointList keyframes, audio;
  bool seen_video = false;
  uint64_t tags = 0;
  TagWalker walker(source, header.first_tag_offset, index.file_size);
  for (;;) {
    auto next = walker.next();
    if (!next) return next.error();
    if (!*next) break;
    const WalkedTag& tag = **next;
    if (++tags > limits.max_tags) return make_error("more than {} tags", limits.max_tags);
    if (tag.type == kTagVideo || tag.type == kTagAudio) {
      index.duration_ms = std::max(index.duration_ms, tag.span.timestamp_ms);
    }
    const TagRole role = classify(tag.type, tag.body_prefix);
    Status added;
    switch (role) {
      case TagRole::kMetadata:
        if (!index.metadata) index.metadata = tag.span;
        break;
      case TagRole::kVideoConfig:
      case TagRole::kAudioConfig:
        added = add_config(index, tag.span, role == TagRole::kVideoConfig, limits);
        break;
      case TagRole::kVideoKeyframe:
        added = keyframes.add(tag.span, limits);
        break;
      case TagRole::kAudio:
        // Audio tags are seek points only in a file without video.
        if (!seen_video) added = audio.add(tag.span, limits);
        break;
      case TagRole::kVideoOther:
      case TagRole::kOther:
        break;
    }
    if (!added) return added.error();
    if (tag.type == kTagVideo && !seen_video) {
      seen_video = true;
      audio.clear();
    }
  }
  PointList& points = seen_video ? keyframes : audio;
  index.kind = seen_video ? FlvSeekPointKind::kVideoKeyframe : FlvSeekPointKind::kAudio;
  index.offsets = std::move(points.offsets);
  index.times_ms = std::move(points.times_ms);
  index.times_monotonic = points.monotonic;
  return index;
}

// The onMetaData keyframes arrays, converted and checked for plausibility
// (not yet against the file). nullopt: absent or implausible.
std::optional<PointList> metadata_points(const std::vector<uint8_t>& body, const FileHeader& header,
                                         uint64_t file_size, const FlvIndexLimits& limits) {
  ByteReader reader(body);
  auto name = amf0::decode(reader);
  if (!name || name->as_string() != "onMetaData") return std::nullopt;
  auto value = amf0::decode(reader);
  if (!value || !value->is_object()) return std::nullopt;
  const amf0::Value* keyframes = value->get("keyframes");
  if (!keyframes || !keyframes->is_object()) return std::nullopt;
  const amf0::Value* times = keyframes->get("times");
  const amf0::Value* positions = keyframes->get("filepositions");
  if (!times || !positions || !times->is_strict_array() || !positions->is_strict_array()) {
    return std::nullopt;
  }
  const size_t count = times->elements().size();
  if (count == 0 || count != positions->elements().size() || count > limits.max_seek_points) {
    return std::nullopt;
  }
  PointList points;
  points.offsets.reserve(count);
  points.times_ms.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const amf0::Value& time = times->elements()[i];
    const amf0::Value& position = positions->elements()[i];
    if (!time.is_number() || !position.is_number()) return std::nullopt;
    const double seconds = time.as_number();
    const double offset = position.as_number();
    // Not NaN, not negative, and small enough for the integer types.
    if (!(seconds >= 0 && seconds * 1000 <= std::numeric_limits<uint32_t>::max())) {
      return std::nullopt;
    }
    if (!(offset >= double(header.first_tag_offset) &&
          offset + double(kMinTagLength) <= double(file_size))) {
      return std::nullopt;
    }
    if (offset != std::floor(offset)) return std::nullopt;
    const auto offset_bytes = static_cast<uint64_t>(offset);
    const auto time_ms = static_cast<uint32_t>(std::llround(seconds * 1000));
    if (!points.offsets.empty() &&
        (offset_bytes <= points.offsets.back() || time_ms < points.times_ms.back())) {
      return std::nullopt;
    }
    points.offsets.push_back(offset_bytes);
    points.times_ms.push_back(time_ms);
  }
  return points;
}

// FLV spec E.3: the file's last four bytes are the PreviousTagSize of its
// last tag; that tag must start at or after `after` and agree with it.
// Returns the last tag's timestamp.
std::optional<uint32_t> check_file_tail(Mp4Source& source, const FileHeader& header,
                                        uint64_t file_size, uint64_t after) {
  if (file_size < header.first_tag_offset + kMinTagLength) return std::nullopt;
  std::array<uint8_t, kPreviousTagSizeSize> back{};
  if (!read_exact(source, file_size - back.size(), back)) return std::nullopt;
  const uint32_t previous_tag_size = load_u32be(back.data());
  if (previous_tag_size < kTagHeaderSize ||
      uint64_t{previous_tag_size} + kPreviousTagSizeSize > file_size - after) {
    return std::nullopt;
  }
  const uint64_t last = file_size - kPreviousTagSizeSize - previous_tag_size;
  std::array<uint8_t, kTagHeaderSize> tag{};
  if (!read_exact(source, last, tag)) return std::nullopt;
  const TagHeader h = parse_tag_header(tag.data());
  if (h.filtered || h.data_size + kTagHeaderSize != previous_tag_size) return std::nullopt;
  return h.timestamp_ms;
}

// The index from onMetaData, if the file agrees with it (see the header);
// nullopt sends the caller to a full scan, which reports any damage.
std::optional<FlvKeyframeIndex> index_from_metadata(Mp4Source& source, const FileHeader& header,
                                                    const FlvIndexLimits& limits) {
  FlvKeyframeIndex index;
  index.file_size = source.size();
  index.first_tag_offset = header.first_tag_offset;
  index.type_flags = header.type_flags;
  index.origin = FlvIndexOrigin::kMetadata;
  index.kind = FlvSeekPointKind::kVideoKeyframe;
  // The head: tags up to the first video keyframe.
  std::optional<uint64_t> first_keyframe;
  TagWalker walker(source, header.first_tag_offset, index.file_size);
  for (uint32_t tags = 0; tags < limits.max_head_tags && !first_keyframe; ++tags) {
    auto next = walker.next();
    if (!next || !*next) return std::nullopt;
    const WalkedTag& tag = **next;
    const TagRole role = classify(tag.type, tag.body_prefix);
    if (role == TagRole::kMetadata && !index.metadata) index.metadata = tag.span;
    if (role == TagRole::kVideoConfig || role == TagRole::kAudioConfig) {
      if (!add_config(index, tag.span, role == TagRole::kVideoConfig, limits)) return std::nullopt;
    }
    if (role == TagRole::kVideoKeyframe) first_keyframe = tag.span.offset;
  }
  if (!first_keyframe || !index.metadata || index.metadata->data_size > limits.max_metadata_bytes) {
    return std::nullopt;
  }
  std::vector<uint8_t> body(index.metadata->data_size);
  if (!read_exact(source, index.metadata->offset + kTagHeaderSize, body)) return std::nullopt;
  auto points = metadata_points(body, header, index.file_size, limits);
  if (!points || points->offsets.front() != *first_keyframe) return std::nullopt;
  index.offsets = std::move(points->offsets);
  index.times_ms = std::move(points->times_ms);
  index.times_monotonic = true;
  // A sample of the entries, first and last included.
  const size_t count = index.offsets.size();
  const size_t checks = std::clamp<size_t>(limits.metadata_checks, 2, std::max<size_t>(count, 2));
  for (size_t k = 0; k < checks; ++k) {
    const size_t point = k * (count - 1) / (checks - 1);
    if (!check_flv_seek_point(source, index, point)) return std::nullopt;
  }
  auto last_timestamp = check_file_tail(source, header, index.file_size, index.offsets.back());
  if (!last_timestamp) return std::nullopt;
  index.duration_ms = std::max(*last_timestamp, index.times_ms.back());
  return index;
}

}  // namespace

size_t FlvKeyframeIndex::memory_bytes() const {
  return sizeof(*this) + offsets.capacity() * sizeof(uint64_t) +
         times_ms.capacity() * sizeof(uint32_t) +
         (video_configs.capacity() + audio_configs.capacity()) * sizeof(FlvTagSpan);
}

std::optional<size_t> FlvKeyframeIndex::find_offset(uint64_t offset) const {
  const auto it = std::lower_bound(offsets.begin(), offsets.end(), offset);
  if (it == offsets.end() || *it != offset) return std::nullopt;
  return static_cast<size_t>(it - offsets.begin());
}

Result<FlvKeyframeIndex> read_flv_keyframe_index(Mp4Source& source, const FlvIndexLimits& limits) {
  auto header = read_file_header(source, limits);
  if (!header) return header.error();
  if (auto index = index_from_metadata(source, *header, limits)) return std::move(*index);
  return scan_tags(source, *header, limits);
}

Status check_flv_seek_point(Mp4Source& source, const FlvKeyframeIndex& index, size_t point) {
  if (point >= index.offsets.size()) return make_error("no seek point {}", point);
  const uint64_t offset = index.offsets[point];
  const std::string_view what =
      index.kind == FlvSeekPointKind::kVideoKeyframe ? "video keyframe" : "audio";
  if (offset < index.first_tag_offset || offset > index.file_size ||
      index.file_size - offset < kMinTagLength) {
    return make_error("offset {} is outside the file's tags", offset);
  }
  // A tag boundary: the PreviousTagSize before it describes a whole tag
  // that ends there (the first tag has PreviousTagSize0 before it instead).
  if (offset != index.first_tag_offset) {
    std::array<uint8_t, kPreviousTagSizeSize> back{};
    if (auto read = read_exact(source, offset - back.size(), back); !read) return read.error();
    const uint32_t previous_tag_size = load_u32be(back.data());
    if (previous_tag_size < kTagHeaderSize ||
        uint64_t{previous_tag_size} + kPreviousTagSizeSize > offset - index.first_tag_offset) {
      return make_error("offset {} is not at a tag boundary", offset);
    }
    std::array<uint8_t, kTagHeaderSize> previous{};
    const uint64_t previous_offset = offset - kPreviousTagSizeSize - previous_tag_size;
    if (auto read = read_exact(source, previous_offset, previous); !read) return read.error();
    if (parse_tag_header(previous.data()).data_size + kTagHeaderSize != previous_tag_size) {
      return make_error("offset {} is not at a tag boundary", offset);
    }
  }
  std::array<uint8_t, kTagHeaderSize + kBodyPrefix> head{};
  const size_t head_size =
      static_cast<size_t>(std::min<uint64_t>(head.size(), index.file_size - offset));
  if (auto read = read_exact(source, offset, std::span(head).first(head_size)); !read) {
    return read.error();
  }
  const TagHeader h = parse_tag_header(head.data());
  if (h.filtered || offset + kMinTagLength + h.data_size > index.file_size) {
    return make_error("no whole tag at offset {}", offset);
  }
  std::array<uint8_t, kPreviousTagSizeSize> after{};
  if (auto read = read_exact(source, offset + kTagHeaderSize + h.data_size, after); !read) {
    return read.error();
  }
  if (load_u32be(after.data()) != kTagHeaderSize + h.data_size) {
    return make_error("the tag at offset {} is not followed by its PreviousTagSize", offset);
  }
  const auto body = std::span<const uint8_t>(head).subspan(
      kTagHeaderSize, std::min<size_t>(h.data_size, head_size - kTagHeaderSize));
  const TagRole expected =
      index.kind == FlvSeekPointKind::kVideoKeyframe ? TagRole::kVideoKeyframe : TagRole::kAudio;
  if (classify(h.type, body) != expected) return make_error("no {} tag at offset {}", what, offset);
  const uint32_t listed = index.times_ms[point];
  const uint32_t slack = index.origin == FlvIndexOrigin::kMetadata ? 1 : 0;
  if (uint64_t{h.timestamp_ms} + slack < listed || h.timestamp_ms > uint64_t{listed} + slack) {
    return make_error("the {} tag at offset {} has timestamp {} ms, the index says {} ms", what,
                      offset, h.timestamp_ms, listed);
  }
  return {};
}

Result<uint64_t> find_flv_tag_at_or_after(Mp4Source& source, const FlvKeyframeIndex& index,
                                          uint64_t from, uint32_t end_ms,
                                          const FlvIndexLimits& limits) {
  if (from < index.first_tag_offset || from > index.file_size) {
    return make_error("offset {} is outside the file's tags", from);
  }
  TagWalker walker(source, from, index.file_size);
  for (uint32_t tags = 0; tags <= limits.max_cut_tags; ++tags) {
    auto next = walker.next();
    if (!next) return next.error();
    if (!*next) return index.file_size;
    if ((*next)->span.timestamp_ms >= end_ms) return (*next)->span.offset;
  }
  return make_error("no tag at {} ms within {} tags of offset {}", end_ms, limits.max_cut_tags,
                    from);
}

}  // namespace cascade::flv
