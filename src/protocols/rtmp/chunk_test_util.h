// Helpers for chunk stream tests: hand-built chunk headers (RTMP spec 5.3.1).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace cascade::rtmp::testing {

using Bytes = std::vector<uint8_t>;

inline void put24(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 16));
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 24));
  put24(b, v & 0xFFFFFF);
}

inline void basic(Bytes& b, uint8_t fmt, uint32_t csid) {
  if (csid < 64) {
    b.push_back(uint8_t(fmt << 6 | csid));
  } else if (csid < 320) {
    b.push_back(uint8_t(fmt << 6));
    b.push_back(uint8_t(csid - 64));
  } else {
    b.push_back(uint8_t(fmt << 6 | 1));
    b.push_back(uint8_t((csid - 64) & 0xFF));
    b.push_back(uint8_t((csid - 64) >> 8));
  }
}

inline void fmt0(Bytes& b, uint32_t csid, uint32_t ts, uint32_t len, uint8_t type, uint32_t msid) {
  basic(b, 0, csid);
  put24(b, ts >= 0xFFFFFF ? 0xFFFFFF : ts);
  put24(b, len);
  b.push_back(type);
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(msid >> (8 * i)));
  if (ts >= 0xFFFFFF) put32(b, ts);
}
inline void fmt1(Bytes& b, uint32_t csid, uint32_t delta, uint32_t len, uint8_t type) {
  basic(b, 1, csid);
  put24(b, delta);
  put24(b, len);
  b.push_back(type);
}
inline void fmt2(Bytes& b, uint32_t csid, uint32_t delta) {
  basic(b, 2, csid);
  put24(b, delta);
}
inline void fmt3(Bytes& b, uint32_t csid) { basic(b, 3, csid); }
inline void data(Bytes& b, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; ++i) b.push_back(uint8_t(seed + i));
}

}  // namespace cascade::rtmp::testing
