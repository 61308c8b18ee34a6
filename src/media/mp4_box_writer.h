// Mp4BoxWriter: appends ISO base media file format boxes (ISO/IEC 14496-12
// 4.2) to a byte vector. A box is opened with begin_box()/begin_full_box(),
// its fields appended with the ByteWriter calls, and closed with end_box(),
// which patches the 32-bit size now that the contents are known.
//
// Only 32-bit box sizes are written (no largesize): a box over 4 GiB is not
// a use case for live segments, and end_box() asserts it does not happen.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/byte_order.h"
#include "core/byte_writer.h"

namespace cascade::media {

// A four-character code as the big-endian u32 stored in the file:
// box_type("moov") == 0x6D6F6F76.
constexpr uint32_t box_type(const char (&name)[5]) {
  return uint32_t(uint8_t(name[0])) << 24 | uint32_t(uint8_t(name[1])) << 16 |
         uint32_t(uint8_t(name[2])) << 8 | uint32_t(uint8_t(name[3]));
}

// Not thread-safe; writes into a vector the caller owns.
class Mp4BoxWriter : public ByteWriter {
 public:
  explicit Mp4BoxWriter(std::vector<uint8_t>& out) : ByteWriter(out), out_(out) {}

  // 14496-12 4.2: Box header, size (patched by end_box) then type. Returns
  // the box's start offset, to pass to end_box().
  size_t begin_box(uint32_t type) {
    const size_t start = out_.size();
    u32be(0);
    u32be(type);
    return start;
  }

  // 14496-12 4.2: FullBox, a Box header then version (8) and flags (24).
  size_t begin_full_box(uint32_t type, uint8_t version, uint32_t flags) {
    const size_t start = begin_box(type);
    u8(version);
    u24be(flags & 0xFFFFFF);
    return start;
  }

  // Closes the box opened at `start`: its size runs to the current end.
  void end_box(size_t start) {
    const size_t size = out_.size() - start;
    assert(size <= std::numeric_limits<uint32_t>::max());
    patch_u32be(start, static_cast<uint32_t>(size));
  }

  void zeros(size_t count) { out_.insert(out_.end(), count, 0); }

  // Overwrites 4 bytes already written at `offset` (e.g. a trun data_offset
  // known only once the whole moof is written).
  void patch_u32be(size_t offset, uint32_t value) {
    assert(offset + 4 <= out_.size());
    store_u32be(out_.data() + offset, value);
  }

 private:
  std::vector<uint8_t>& out_;
};

}  // namespace cascade::media
