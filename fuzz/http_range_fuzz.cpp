// Fuzzes the VOD request parsers: Range against a size taken from the input,
// If-None-Match/If-Range, HTTP dates, and URL paths. Contracts: a
// satisfiable range lies inside the file; a path that is accepted has no
// empty, "." or ".." segment, NUL or backslash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "net/http_date.h"
#include "vod/http_range.h"
#include "vod/vod_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade::vod;
  uint64_t file_size = 0;
  if (size >= 8) {
    std::memcpy(&file_size, data, 8);
    data += 8;
    size -= 8;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ByteRange range;
  if (evaluate_range(text, file_size, range) == RangeResult::kSatisfiable) {
    if (range.first > range.last || range.last >= file_size) __builtin_trap();
  }
  (void)if_none_match(text, "\"1-2-3\"");
  (void)if_range_allows(text, "\"1-2-3\"", "Sun, 06 Nov 1994 08:49:37 GMT");
  if (auto date = cascade::net::parse_http_date(text)) (void)cascade::net::format_http_date(*date);
  if (auto path = relative_path_from_url(text)) {
    const std::string& p = path.value();
    if (p.empty() || p.front() == '/' || p.find('\0') != std::string::npos ||
        p.find('\\') != std::string::npos || p.find("//") != std::string::npos ||
        p == ".." || p.starts_with("../") || p.ends_with("/..") ||
        p.find("/../") != std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
