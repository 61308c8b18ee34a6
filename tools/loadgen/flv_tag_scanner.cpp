#include "loadgen/flv_tag_scanner.h"

#include <algorithm>
#include <cstring>

#include "core/byte_order.h"

namespace cascade::loadgen {
namespace {

// FLV spec E.2 / E.4.1.
constexpr size_t kFileHeaderSize = 9;
constexpr size_t kTagHeaderSize = 11;
constexpr size_t kPreviousTagSizeSize = 4;
}  // namespace

Error FlvTagScanner::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error;
}

Result<size_t> FlvTagScanner::feed(std::span<const uint8_t> bytes, FlvTagSink& sink) {
  if (failed_) return error_;
  const uint8_t* data = bytes.data();
  const size_t size = bytes.size();
  size_t pos = 0;
  // Collects a fixed-size unit into unit_; true once complete.
  auto collect = [&](size_t need) {
    size_t n = std::min(need - have_, size - pos);
    std::memcpy(unit_.data() + have_, data + pos, n);
    have_ += n;
    pos += n;
    if (have_ < need) return false;
    have_ = 0;
    return true;
  };

  while (pos < size) {
    switch (state_) {
      case State::kHeader: {
        if (!collect(kFileHeaderSize)) break;
        // FLV spec E.2: "FLV", version 1, TypeFlags, DataOffset (>= 9).
        if (unit_[0] != 'F' || unit_[1] != 'L' || unit_[2] != 'V') {
          return fail(make_error("not an FLV stream (signature {:02x}{:02x}{:02x})", unit_[0],
                                 unit_[1], unit_[2]));
        }
        if (unit_[3] != 1) return fail(make_error("FLV version {}", unit_[3]));
        flags_ = unit_[4];
        uint32_t offset = load_u32be(unit_.data() + 5);
        if (offset < kFileHeaderSize) return fail(make_error("FLV DataOffset {} < 9", offset));
        skip_ = offset - static_cast<uint32_t>(kFileHeaderSize);
        state_ = skip_ ? State::kHeaderPadding : State::kPreviousTagSize0;
        break;
      }
      case State::kHeaderPadding: {
        size_t n = std::min<size_t>(skip_, size - pos);
        pos += n;
        skip_ -= static_cast<uint32_t>(n);
        if (skip_ == 0) state_ = State::kPreviousTagSize0;
        break;
      }
      case State::kPreviousTagSize0:
        if (!collect(kPreviousTagSizeSize)) break;
        // FLV spec E.3: PreviousTagSize0 is always 0.
        if (uint32_t v = load_u32be(unit_.data()); v != 0) {
          return fail(make_error("PreviousTagSize0 is {}, not 0", v));
        }
        state_ = State::kTagHeader;
        break;
      case State::kTagHeader: {
        if (!collect(kTagHeaderSize)) break;
        // FLV spec E.4.1: Reserved UB[2], Filter UB[1], TagType UB[5],
        // DataSize UI24, Timestamp UI24, TimestampExtended UI8, StreamID UI24 (0).
        tag_.type = unit_[0] & 0x1F;
        tag_.filter = unit_[0] & 0x20;
        tag_.data_size = load_u24be(unit_.data() + 1);
        tag_.timestamp = load_u24be(unit_.data() + 4) | uint32_t(unit_[7]) << 24;
        if (uint32_t stream_id = load_u24be(unit_.data() + 8); stream_id != 0) {
          return fail(make_error("tag StreamID is {}, not 0", stream_id));
        }
        skip_ = tag_.data_size;
        state_ = skip_ ? State::kBody : State::kPreviousTagSize;
        break;
      }
      case State::kBody: {
        size_t n = std::min<size_t>(skip_, size - pos);
        size_t done = tag_.data_size - skip_;
        if (done < kPrefixBytes) {
          std::memcpy(prefix_.data() + done, data + pos, std::min(n, kPrefixBytes - done));
        }
        pos += n;
        skip_ -= static_cast<uint32_t>(n);
        if (skip_ == 0) state_ = State::kPreviousTagSize;
        break;
      }
      case State::kPreviousTagSize: {
        if (!collect(kPreviousTagSizeSize)) break;
        // FLV spec E.3: PreviousTagSize = 11 + DataSize of the tag before it.
        uint32_t previous = load_u32be(unit_.data());
        if (previous != kTagHeaderSize + tag_.data_size) {
          return fail(make_error("PreviousTagSize {} after a tag of {} bytes (expected {})",
                                 previous, tag_.data_size, kTagHeaderSize + tag_.data_size));
        }
        state_ = State::kTagHeader;
        ++tags_;
        tag_.head = std::span<const uint8_t>(prefix_.data(),
                                             std::min<size_t>(tag_.data_size, kPrefixBytes));
        if (!sink.on_tag(tag_)) return pos;
        break;
      }
    }
  }
  return pos;
}

}  // namespace cascade::loadgen
