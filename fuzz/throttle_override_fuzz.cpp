// Fuzzes the VOD throttle override (vod/throttle_override.h): input is
// "{url path}\n{query}", checked with a fixed secret and time. Contracts: no
// crash; an accepted override is 0 or a factor in [0.1, 100] and carried a
// 64-digit signature.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vod/throttle_override.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view path = input.substr(0, newline);
  const std::string_view query =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  auto result =
      cascade::vod::verify_throttle_override(path, query, "0123456789abcdef-secret", 1'700'000'000);
  if (result && *result) {
    const double factor = **result;
    if (factor != 0 && (factor < 0.1 || factor > 100)) __builtin_trap();
    if (query.find("sig=") == std::string_view::npos) __builtin_trap();
  }
  return 0;
}
