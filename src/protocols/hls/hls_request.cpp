#include "protocols/hls/hls_request.h"

#include <charconv>

#include "core/percent_encoding.h"
#include "core/query_string.h"

namespace cascade::hls {
namespace {

// Percent-decodes one path segment; fails on bad escapes, on NUL (raw or
// escaped), on an escaped '/', and on the dot-segments "." and ".." (RFC
// 3986 3.3), raw or escaped.
bool decode_segment(std::string_view in, std::string& out) {
  if (!percent_decode(in, out)) return false;
  return !out.empty() && out.find('/') == std::string::npos && out != "." && out != "..";
}

template <typename T>
bool parse_decimal(std::string_view text, T& value) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

// A number in a URL path: one spelling per number ("s7.ts", never
// "s007.ts"), as each names one immutable resource.
template <typename T>
bool parse_path_number(std::string_view text, T& value) {
  if (text.size() > 1 && text[0] == '0') return false;
  return parse_decimal(text, value);
}

// "s12.m4s" -> 12 with prefix "s" and suffix ".m4s".
bool parse_numbered(std::string_view name, std::string_view prefix, std::string_view suffix,
                    uint64_t& number) {
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
  if (name.size() <= prefix.size() + suffix.size()) return false;
  return parse_path_number(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()),
                           number);
}

bool parse_media_name(std::string_view name, HlsTarget& target) {
  uint64_t number = 0;
  if (parse_numbered(name, "init", ".mp4", number)) {
    target.resource = Resource::kInit;
  } else if (parse_numbered(name, "s", ".m4s", number)) {
    target.resource = Resource::kFmp4Segment;
  } else if (parse_numbered(name, "s", ".ts", number)) {
    target.resource = Resource::kTsSegment;
  } else if (name.starts_with("p") && name.ends_with(".m4s")) {
    std::string_view middle = name.substr(1, name.size() - 5);
    auto dot = middle.find('.');
    if (dot == std::string_view::npos) return false;
    uint64_t part = 0;
    if (!parse_path_number(middle.substr(0, dot), number) ||
        !parse_path_number(middle.substr(dot + 1), part) || part > UINT32_MAX) {
      return false;
    }
    target.resource = Resource::kPart;
    target.part = static_cast<uint32_t>(part);
  } else {
    return false;
  }
  target.number = number;
  return true;
}

bool valid_epoch(std::string_view epoch) {
  if (epoch.empty() || epoch.size() > 32) return false;
  for (char c : epoch) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

}  // namespace

bool is_playlist(Resource resource) {
  switch (resource) {
    case Resource::kMaster:
    case Resource::kFmp4Playlist:
    case Resource::kTsPlaylist:
    case Resource::kFmp4DvrPlaylist:
    case Resource::kTsDvrPlaylist:
      return true;
    default:
      return false;
  }
}

std::optional<HlsTarget> parse_hls_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  // Split into at most 4 segments.
  std::string_view parts[4];
  size_t count = 0;
  while (!path.empty()) {
    if (count == 4) return std::nullopt;
    auto slash = path.find('/');
    parts[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return std::nullopt;  // trailing slash
  }
  HlsTarget target;
  if (count == 2) {
    std::string_view stream = parts[1];
    if (!stream.ends_with(".m3u8") || stream.size() <= 5) return std::nullopt;
    if (!decode_segment(parts[0], target.app) ||
        !decode_segment(stream.substr(0, stream.size() - 5), target.stream)) {
      return std::nullopt;
    }
    target.resource = Resource::kMaster;
    return target;
  }
  if (count < 3) return std::nullopt;
  if (!decode_segment(parts[0], target.app) || !decode_segment(parts[1], target.stream)) {
    return std::nullopt;
  }
  if (count == 3) {
    const std::string_view name = parts[2];
    if (name == "index.m3u8") {
      target.resource = Resource::kFmp4Playlist;
    } else if (name == "ts.m3u8") {
      target.resource = Resource::kTsPlaylist;
    } else if (name == "dvr.m3u8") {
      target.resource = Resource::kFmp4DvrPlaylist;
    } else if (name == "ts-dvr.m3u8") {
      target.resource = Resource::kTsDvrPlaylist;
    } else {
      return std::nullopt;
    }
    return target;
  }
  if (!valid_epoch(parts[2]) || !parse_media_name(parts[3], target)) return std::nullopt;
  target.epoch = std::string(parts[2]);
  return target;
}

Result<DeliveryDirectives> parse_delivery_directives(std::string_view query) {
  DeliveryDirectives directives;
  bool seen_skip = false;
  while (const std::optional<QueryParameter> parameter = next_query_parameter(query)) {
    const std::string_view name = parameter->name;
    const std::string_view value = parameter->value;
    if (name == "_HLS_msn") {
      uint64_t msn = 0;
      if (directives.msn) return make_error("_HLS_msn given twice");
      if (!parse_decimal(value, msn)) return make_error("_HLS_msn is not a decimal integer");
      directives.msn = msn;
    } else if (name == "_HLS_part") {
      uint64_t part = 0;
      if (directives.part) return make_error("_HLS_part given twice");
      if (!parse_decimal(value, part) || part > UINT32_MAX) {
        return make_error("_HLS_part is not a decimal integer");
      }
      directives.part = static_cast<uint32_t>(part);
    } else if (name == "_HLS_skip") {
      if (seen_skip) return make_error("_HLS_skip given twice");
      seen_skip = true;
      if (value != "YES" && value != "v2") return make_error("_HLS_skip must be YES or v2");
      directives.skip = true;
    }
  }
  // 8216bis 6.2.5.2: _HLS_part without _HLS_msn is a Bad Request.
  if (directives.part && !directives.msn) return make_error("_HLS_part without _HLS_msn");
  return directives;
}

}  // namespace cascade::hls
