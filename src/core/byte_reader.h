// ByteReader: bounds-checked big-endian reads over untrusted bytes.
//
// Contract: reads never go past the end. A read past the end returns zero
// bytes/values and makes the reader "failed" for good (sticky), so a parser
// can do a run of reads and check ok() once.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace cascade {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool ok() const { return !failed_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  std::span<const uint8_t> rest() const { return bytes_.subspan(pos_); }

  uint8_t u8() { return static_cast<uint8_t>(be(1)); }
  uint16_t u16be() { return static_cast<uint16_t>(be(2)); }
  uint32_t u24be() { return static_cast<uint32_t>(be(3)); }
  uint32_t u32be() { return static_cast<uint32_t>(be(4)); }
  uint64_t u64be() { return be(8); }
  uint32_t u32le() {
    auto b = bytes(4);
    if (b.size() != 4) return 0;
    return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  }
  int32_t s24be() {
    uint32_t v = u24be();
    return (v & 0x800000u) ? static_cast<int32_t>(v | 0xFF000000u) : static_cast<int32_t>(v);
  }
  double f64be() {
    uint64_t bits = u64be();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

  // Returns n bytes, or an empty span (and fails) when fewer remain.
  std::span<const uint8_t> bytes(size_t n) {
    if (failed_ || n > remaining()) {
      failed_ = true;
      pos_ = bytes_.size();
      return {};
    }
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view string(size_t n) {
    auto b = bytes(n);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  void skip(size_t n) { (void)bytes(n); }

 private:
  uint64_t be(size_t n) {
    auto b = bytes(n);
    uint64_t v = 0;
    for (uint8_t byte : b) v = (v << 8) | byte;
    return v;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace cascade
