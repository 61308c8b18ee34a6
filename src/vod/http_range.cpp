#include "vod/http_range.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>

#include "net/http_date.h"

namespace cascade::vod {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_u64(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

RangeResult evaluate_range(std::string_view header, uint64_t size, ByteRange& range) {
  header = trim(header);
  if (header.empty()) return RangeResult::kNone;
  // RFC 9110 14.1.1: ranges-specifier = range-unit "=" range-set; unit
  // names are case-insensitive.
  if (header.size() < 6) return RangeResult::kNone;
  std::string unit(header.substr(0, 6));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit != "bytes=") return RangeResult::kNone;
  std::string_view set = trim(header.substr(6));
  if (set.find(',') != std::string_view::npos) return RangeResult::kNone;  // several: whole file
  const size_t dash = set.find('-');
  if (dash == std::string_view::npos) return RangeResult::kNone;
  std::string_view first_text = trim(set.substr(0, dash));
  std::string_view last_text = trim(set.substr(dash + 1));
  if (first_text.empty()) {
    // suffix-range: the last N bytes (14.1.2).
    uint64_t suffix = 0;
    if (!parse_u64(last_text, suffix)) return RangeResult::kNone;
    if (suffix == 0 || size == 0) return RangeResult::kUnsatisfiable;
    range.first = suffix >= size ? 0 : size - suffix;
    range.last = size - 1;
    return RangeResult::kSatisfiable;
  }
  uint64_t first = 0;
  if (!parse_u64(first_text, first)) return RangeResult::kNone;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    if (!parse_u64(last_text, last)) return RangeResult::kNone;
    if (last < first) return RangeResult::kNone;  // invalid: ignored (14.1.1)
  }
  if (first >= size) return RangeResult::kUnsatisfiable;
  range.first = first;
  range.last = std::min(last, size - 1);
  return RangeResult::kSatisfiable;
}

bool if_none_match(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view tag = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    std::string_view ours = etag;
    if (ours.starts_with("W/")) ours.remove_prefix(2);
    if (!tag.empty() && tag == ours) return true;
  }
  return false;
}

bool if_range_allows(std::string_view header, std::string_view etag,
                     std::string_view last_modified) {
  header = trim(header);
  if (header.empty()) return true;
  if (header.starts_with("\"")) return header == etag;  // strong comparison (13.1.5)
  if (header.starts_with("W/")) return false;           // weak validators never match
  auto date = net::parse_http_date(header);
  auto ours = net::parse_http_date(last_modified);
  return date && ours && *date == *ours;
}

}  // namespace cascade::vod
