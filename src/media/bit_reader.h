// BitReader: MSB-first bit reads over untrusted codec bitstreams (H.264/H.265
// parameter sets, AAC AudioSpecificConfig), plus NAL unit RBSP extraction.
//
// Contract: like ByteReader, reads never go past the end. A read past the end
// (or an Exp-Golomb code longer than 32 bits) returns 0 and makes the reader
// "failed" for good (sticky), so a parser does a run of reads and checks ok().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace cascade::media {

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool ok() const { return !failed_; }
  size_t bits_left() const { return failed_ ? 0 : bytes_.size() * 8 - pos_; }

  // Reads n <= 32 bits as an unsigned big-endian number.
  uint32_t u(unsigned n) {
    if (n > 32 || n > bits_left()) return fail();
    uint32_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      v = (v << 1) | ((bytes_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u);
      ++pos_;
    }
    return v;
  }
  bool flag() { return u(1) != 0; }
  void skip(size_t n) {
    if (n > bits_left()) {
      fail();
      return;
    }
    pos_ += n;
  }

  // H.264 9.1 / H.265 9.2: ue(v), unsigned Exp-Golomb. Codes with more than
  // 31 leading zero bits do not fit 32 bits and fail the reader.
  uint32_t ue() {
    unsigned leading_zeros = 0;
    while (ok() && u(1) == 0) {
      if (++leading_zeros > 31) return fail();
    }
    if (!ok()) return 0;
    uint32_t suffix = u(leading_zeros);
    return static_cast<uint32_t>((uint64_t{1} << leading_zeros) - 1 + suffix);
  }
  // H.264 9.1.1: se(v), signed Exp-Golomb mapped from ue(v).
  int32_t se() {
    uint32_t k = ue();
    int64_t magnitude = (int64_t{k} + 1) / 2;
    return static_cast<int32_t>((k & 1u) ? magnitude : -magnitude);
  }

 private:
  uint32_t fail() {
    failed_ = true;
    return 0;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// H.264 7.4.1 / H.265 7.4.2: a NAL unit's payload with every
// emulation_prevention_three_byte (the 0x03 in 00 00 03) removed.
inline std::vector<uint8_t> nal_to_rbsp(std::span<const uint8_t> nal) {
  std::vector<uint8_t> rbsp;
  rbsp.reserve(nal.size());
  size_t zeros = 0;
  for (uint8_t byte : nal) {
    if (zeros >= 2 && byte == 0x03) {
      zeros = 0;
      continue;
    }
    zeros = byte == 0 ? zeros + 1 : 0;
    rbsp.push_back(byte);
  }
  return rbsp;
}

}  // namespace cascade::media
