// Test-only helpers shared by the media unit tests.
//
// Table-driven test cases double as fuzz seeds (ARCHITECTURE.md, "Habits"):
// when the environment variable CASCADE_SEED_DIR is set, save_seed() writes
// each case (up to kMaxSeedSize bytes) to $CASCADE_SEED_DIR/<target>/<name>.
// fuzz/make_seeds runs the unit tests that way to regenerate fuzz/corpus/.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::media::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<uint8_t>(v));
  return out;
}

inline Bytes concat(std::initializer_list<std::span<const uint8_t>> parts) {
  Bytes out;
  for (auto part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

inline Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

inline constexpr size_t kMaxSeedSize = 4096;

inline void save_seed(std::string_view target, std::string_view name,
                      std::span<const uint8_t> data) {
  const char* dir = std::getenv("CASCADE_SEED_DIR");
  if (!dir || !*dir) return;
  // Large cases (limit tests) make poor seeds: libFuzzer's default -max_len
  // follows the largest seed and would slow every target down.
  if (data.size() > kMaxSeedSize) return;
  std::string file_name;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
    file_name.push_back(keep ? c : '_');
  }
  const std::filesystem::path path = std::filesystem::path(dir) / target;
  std::filesystem::create_directories(path);
  std::ofstream out(path / file_name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write seed " << (path / file_name);
}

// MSB-first bit writer for building synthetic bitstreams (SPS, ASC) in tests.
class BitWriter {
 public:
  void u(unsigned n, uint64_t v) {
    for (unsigned i = n; i-- > 0;) bit((v >> i) & 1);
  }
  void bit(bool b) {
    if (bits_ % 8 == 0) out_.push_back(0);
    if (b) out_.back() |= static_cast<uint8_t>(0x80 >> (bits_ % 8));
    ++bits_;
  }
  // H.264 9.1: ue(v).
  void ue(uint32_t v) {
    const uint64_t code = uint64_t{v} + 1;
    unsigned length = 0;
    while ((code >> length) > 1) ++length;
    u(length, 0);
    u(length + 1, code);
  }
  void se(int32_t v) {
    ue(v > 0 ? static_cast<uint32_t>(2 * v - 1) : static_cast<uint32_t>(-2 * int64_t{v}));
  }
  // rbsp_trailing_bits(): a stop bit, then zero bits to the byte boundary.
  Bytes finish_rbsp() {
    bit(true);
    while (bits_ % 8) bit(false);
    return out_;
  }
  Bytes finish() { return out_; }

 private:
  Bytes out_;
  size_t bits_ = 0;
};

// H.264 7.4.1: inserts emulation_prevention_three_byte where needed.
inline Bytes rbsp_to_nal(uint8_t nal_header, const Bytes& rbsp) {
  Bytes out{nal_header};
  int zeros = 0;
  for (uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

}  // namespace cascade::media::testing
