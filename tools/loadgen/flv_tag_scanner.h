// FlvTagScanner: a streaming scanner of an FLV byte stream (Adobe FLV spec
// v10.1, Annex E) for loadgen's HTTP-FLV viewers: the file header, then tags,
// each checked against the PreviousTagSize that follows it. Tag bodies are
// skipped in place; only their first kPrefixBytes are kept.
//
// Contract (sans-I/O, not thread-safe, one per connection): feed() consumes
// every byte it is given (nothing is left for the caller) and reports each tag
// once its PreviousTagSize has been checked. FlvTag::head is valid only during
// the call. An error means the stream's structure is broken; it is sticky.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.h"

namespace cascade::loadgen {

struct FlvTag {
  uint8_t type = 0;  // TagType (8 audio, 9 video, 18 script data)
  bool filter = false;
  uint32_t timestamp = 0;  // Timestamp | TimestampExtended << 24 (FLV spec E.4.1)
  uint32_t data_size = 0;
  std::span<const uint8_t> head;  // first min(data_size, kPrefixBytes) body bytes
};

class FlvTagSink {
 public:
  virtual ~FlvTagSink() = default;
  // Returning false stops feed() right after this tag.
  virtual bool on_tag(const FlvTag& tag) = 0;
};

class FlvTagScanner {
 public:
  static constexpr size_t kPrefixBytes = 16;

  Result<size_t> feed(std::span<const uint8_t> bytes, FlvTagSink& sink);

  bool header_seen() const { return state_ > State::kHeader; }
  bool has_audio() const { return flags_ & 0x04; }
  bool has_video() const { return flags_ & 0x01; }
  uint64_t tags() const { return tags_; }
  // True between tags: the stream may end here without losing a tag.
  bool at_tag_boundary() const { return state_ == State::kTagHeader && have_ == 0; }

 private:
  enum class State : uint8_t {
    kHeader,
    kHeaderPadding,
    kPreviousTagSize0,
    kTagHeader,
    kBody,
    kPreviousTagSize
  };

  Error fail(Error error);

  State state_ = State::kHeader;
  uint8_t flags_ = 0;
  bool failed_ = false;
  Error error_;
  // Bytes of a fixed-size unit (header, tag header, PreviousTagSize) so far.
  std::array<uint8_t, 11> unit_{};
  size_t have_ = 0;
  uint32_t skip_ = 0;  // header padding or body bytes still to skip
  FlvTag tag_;
  std::array<uint8_t, kPrefixBytes> prefix_{};
  uint64_t tags_ = 0;
};

}  // namespace cascade::loadgen
