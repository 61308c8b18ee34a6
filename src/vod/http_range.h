// HTTP byte ranges and conditional requests for static content
// (RFC 9110 13 "Conditional Requests", 14 "Range Requests"). Pure; fuzzed
// by fuzz/http_range_fuzz.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::vod {

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

enum class RangeResult : uint8_t {
  kNone,           // no Range header, or one to ignore: send the whole representation (200)
  kSatisfiable,    // send `range` (206)
  kUnsatisfiable,  // 416 with Content-Range: bytes */size
};

// RFC 9110 14.2: a Range header against a representation of `size` bytes.
// One range is served; a header with several ranges, another unit, or bad
// syntax is ignored (14.2: a server MAY ignore Range), so the client gets
// the whole file. Suffix ranges ("-500") and open ranges ("100-") work; a
// last position past the end is clipped.
RangeResult evaluate_range(std::string_view header, uint64_t size, ByteRange& range);

// RFC 9110 13.1.1 If-None-Match (weak comparison: W/ ignored; "*" matches).
bool if_none_match(std::string_view header, std::string_view etag);
// RFC 9110 13.1.5 If-Range: true if the range may be served (the validator
// is our strong ETag, or an HTTP-date equal to Last-Modified).
bool if_range_allows(std::string_view header, std::string_view etag,
                     std::string_view last_modified);

}  // namespace cascade::vod
