#include "loadgen/hls_playlist.h"

#include <algorithm>
#include <charconv>

namespace cascade::loadgen {
namespace {

constexpr int64_t kUs = 1'000'000;

// RFC 8216 4.2: decimal-integer, 0 to 2^64-1.
std::optional<uint64_t> parse_integer(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return value;
}

bool uri_char_ok(unsigned char c) {
  return c > 0x20 && c != 0x7F;
}

bool valid_uri(std::string_view uri) {
  return !uri.empty() && std::all_of(uri.begin(), uri.end(), [](char c) {
    return uri_char_ok(static_cast<unsigned char>(c));
  });
}

struct Attribute {
  std::string_view name, value;
  bool quoted = false;
};

// RFC 8216 4.2: attribute-list = AttributeName=AttributeValue *("," ...);
// names are [A-Z0-9-]; quoted-string values may hold commas.
Result<std::vector<Attribute>> parse_attributes(std::string_view text) {
  std::vector<Attribute> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos || eq == pos) {
      return make_error("bad attribute list '{}'", text.substr(0, 80));
    }
    Attribute a;
    a.name = text.substr(pos, eq - pos);
    for (char c : a.name) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
        return make_error("bad attribute name '{}'", a.name.substr(0, 40));
      }
    }
    pos = eq + 1;
    if (pos < text.size() && text[pos] == '"') {
      size_t close = text.find('"', pos + 1);
      if (close == std::string_view::npos) {
        return make_error("unterminated quoted string in '{}'", text.substr(0, 80));
      }
      a.value = text.substr(pos + 1, close - pos - 1);
      a.quoted = true;
      pos = close + 1;
      if (pos < text.size() && text[pos] != ',') {
        return make_error("junk after a quoted string in '{}'", text.substr(0, 80));
      }
    } else {
      size_t comma = text.find(',', pos);
      if (comma == std::string_view::npos) comma = text.size();
      a.value = text.substr(pos, comma - pos);
      if (a.value.empty()) return make_error("empty attribute value for {}", a.name);
      pos = comma;
    }
    out.push_back(a);
    if (pos < text.size()) ++pos;  // the comma
  }
  return out;
}

const Attribute* find_attribute(const std::vector<Attribute>& attributes, std::string_view name) {
  for (const Attribute& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<int64_t> seconds_attribute(const std::vector<Attribute>& attributes, std::string_view tag,
                                  std::string_view name) {
  const Attribute* a = find_attribute(attributes, name);
  if (!a) return make_error("{} without {}", tag, name);
  auto us = parse_seconds_us(a->value);
  if (!a->quoted && us) return *us;
  return make_error("{} has a bad {} '{}'", tag, name, a->value.substr(0, 32));
}

Result<std::string> uri_attribute(const std::vector<Attribute>& attributes, std::string_view tag) {
  const Attribute* a = find_attribute(attributes, "URI");
  if (!a || !a->quoted) return make_error("{} without a quoted URI", tag);
  if (!valid_uri(a->value)) return make_error("{} has a bad URI '{}'", tag, a->value.substr(0, 80));
  return std::string(a->value);
}

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;  // path starts with '/'
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(pos, slash - pos);
    const bool last = slash == path.size();
    if (segment == ".") {
      if (last) out.emplace_back();
    } else if (segment == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.emplace_back();
    } else {
      out.push_back(segment);
    }
    pos = slash + 1;
  }
  std::string result;
  for (std::string_view segment : out) {
    result.push_back('/');
    result.append(segment);
  }
  return result.empty() ? "/" : result;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

const HlsSegment* HlsPlaylist::find(uint64_t msn) const {
  const uint64_t first = first_listed_msn();
  if (msn < first || msn - first >= segments.size()) return nullptr;
  return &segments[msn - first];
}

std::optional<int64_t> parse_seconds_us(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 9) return std::nullopt;  // < 31 years
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  auto seconds = parse_integer(whole);
  if (!seconds) return std::nullopt;
  int64_t us = int64_t(*seconds) * kUs;
  int64_t scale = kUs / 10;
  for (char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    us += (c - '0') * scale;
    scale /= 10;
  }
  return us;
}

Result<HlsPlaylist> parse_playlist(std::string_view text) {
  HlsPlaylist pl;
  HlsSegment pending;            // the segment being described
  bool pending_started = false;  // a tag of it was seen
  bool expect_uri = false;       // after EXTINF
  bool variant_next = false;     // after EXT-X-STREAM-INF
  bool have_target = false, have_sequence = false, media_tags = false;
  std::string current_map;
  size_t line_number = 0;
  size_t pos = 0;

  auto push_segment = [&]() -> Status {
    if (pl.segments.size() >= kMaxPlaylistSegments) return make_error("too many segments");
    pending.map_uri = current_map;
    pl.segments.push_back(std::move(pending));
    pending = HlsSegment{};
    pending_started = false;
    return {};
  };

  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_number == 1) {
      if (line != "#EXTM3U") return make_error("not a playlist: the first line is not #EXTM3U");
      continue;
    }
    if (line.empty()) continue;
    if (line.front() != '#') {  // a URI line
      if (!valid_uri(line))
        return make_error("line {}: bad URI '{}'", line_number, line.substr(0, 80));
      if (variant_next) {
        pl.variants.emplace_back(line);
        variant_next = false;
      } else if (expect_uri) {
        pending.uri = std::string(line);
        expect_uri = false;
        if (auto s = push_segment(); !s) return s.error();
      } else {
        return make_error("line {}: URI without EXTINF", line_number);
      }
      continue;
    }
    if (line.substr(0, 4) != "#EXT") continue;  // a comment
    if (expect_uri) return make_error("line {}: EXTINF not followed by a URI", line_number);
    size_t colon = line.find(':');
    std::string_view tag = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    auto attributes = [&]() { return parse_attributes(value); };

    if (tag == "#EXT-X-STREAM-INF") {
      pl.multivariant = true;
      variant_next = true;
    } else if (tag == "#EXT-X-VERSION") {
      auto v = parse_integer(value);
      if (!v || *v > 1000) return make_error("bad EXT-X-VERSION '{}'", value.substr(0, 20));
      pl.version = static_cast<int>(*v);
    } else if (tag == "#EXT-X-TARGETDURATION") {
      media_tags = true;
      auto v = parse_integer(value);
      if (!v || *v > 100'000)
        return make_error("bad EXT-X-TARGETDURATION '{}'", value.substr(0, 20));
      if (have_target) return make_error("EXT-X-TARGETDURATION repeated");
      have_target = true;
      pl.target_duration_s = static_cast<int64_t>(*v);
    } else if (tag == "#EXT-X-MEDIA-SEQUENCE") {
      media_tags = true;
      auto v = parse_integer(value);
      if (!v) return make_error("bad EXT-X-MEDIA-SEQUENCE '{}'", value.substr(0, 24));
      if (have_sequence) return make_error("EXT-X-MEDIA-SEQUENCE repeated");
      // RFC 8216 4.3.3.2: before the first Media Segment.
      if (!pl.segments.empty() || pending_started) {
        return make_error("EXT-X-MEDIA-SEQUENCE after the first segment");
      }
      have_sequence = true;
      pl.media_sequence = *v;
    } else if (tag == "#EXT-X-SKIP") {
      auto list = attributes();
      if (!list) return list.error();
      const Attribute* a = find_attribute(*list, "SKIPPED-SEGMENTS");
      auto v = a ? parse_integer(a->value) : std::nullopt;
      if (!v) return make_error("EXT-X-SKIP without a valid SKIPPED-SEGMENTS");
      if (!pl.segments.empty() || pending_started) return make_error("EXT-X-SKIP after a segment");
      if (*v > kMaxPlaylistSegments) return make_error("EXT-X-SKIP skips too many segments");
      pl.skipped_segments = *v;
    } else if (tag == "#EXT-X-SERVER-CONTROL") {
      auto list = attributes();
      if (!list) return list.error();
      if (const Attribute* a = find_attribute(*list, "CAN-BLOCK-RELOAD")) {
        pl.can_block_reload = a->value == "YES";
      }
      if (find_attribute(*list, "CAN-SKIP-UNTIL")) {
        auto us = seconds_attribute(*list, tag, "CAN-SKIP-UNTIL");
        if (!us) return us.error();
        pl.can_skip_until_us = *us;
      }
      if (find_attribute(*list, "PART-HOLD-BACK")) {
        auto us = seconds_attribute(*list, tag, "PART-HOLD-BACK");
        if (!us) return us.error();
        pl.part_hold_back_us = *us;
      }
    } else if (tag == "#EXT-X-PART-INF") {
      auto list = attributes();
      if (!list) return list.error();
      auto us = seconds_attribute(*list, tag, "PART-TARGET");
      if (!us) return us.error();
      if (*us <= 0) return make_error("EXT-X-PART-INF PART-TARGET is 0");
      pl.part_target_us = *us;
    } else if (tag == "#EXT-X-MAP") {
      auto list = attributes();
      if (!list) return list.error();
      auto uri = uri_attribute(*list, tag);
      if (!uri) return uri.error();
      current_map = std::move(*uri);
    } else if (tag == "#EXT-X-DISCONTINUITY") {
      pending.discontinuity = true;
      pending_started = true;
    } else if (tag == "#EXTINF") {
      media_tags = true;
      std::string_view duration = value.substr(0, value.find(','));
      auto us = parse_seconds_us(duration);
      if (!us)
        return make_error("line {}: bad EXTINF duration '{}'", line_number, duration.substr(0, 24));
      if (!have_target) return make_error("EXTINF before EXT-X-TARGETDURATION");
      // RFC 8216 4.3.3.1: rounded to the nearest integer, <= the target.
      if ((*us + kUs / 2) / kUs > pl.target_duration_s) {
        return make_error("EXTINF {} us exceeds EXT-X-TARGETDURATION {}", *us,
                          pl.target_duration_s);
      }
      pending.duration_us = *us;
      pending_started = true;
      expect_uri = true;
    } else if (tag == "#EXT-X-PART") {
      auto list = attributes();
      if (!list) return list.error();
      // 8216bis 4.4.3.7: EXT-X-PART needs EXT-X-PART-INF, which comes first.
      if (!pl.part_target_us) return make_error("EXT-X-PART without EXT-X-PART-INF before it");
      HlsPart part;
      auto us = seconds_attribute(*list, tag, "DURATION");
      if (!us) return us.error();
      // 8216bis 4.4.4.9: a part's duration is at most the Part Target Duration.
      if (*us > *pl.part_target_us) {
        return make_error("EXT-X-PART DURATION {} us exceeds PART-TARGET {} us", *us,
                          *pl.part_target_us);
      }
      part.duration_us = *us;
      auto uri = uri_attribute(*list, tag);
      if (!uri) return uri.error();
      part.uri = std::move(*uri);
      const Attribute* independent = find_attribute(*list, "INDEPENDENT");
      part.independent = independent && independent->value == "YES";
      if (pending.parts.size() >= kMaxPartsPerSegment) return make_error("too many parts");
      pending.parts.push_back(std::move(part));
      pending_started = true;
    } else if (tag == "#EXT-X-PRELOAD-HINT") {
      auto list = attributes();
      if (!list) return list.error();
      const Attribute* type = find_attribute(*list, "TYPE");
      if (!type) return make_error("EXT-X-PRELOAD-HINT without TYPE");
      auto uri = uri_attribute(*list, tag);
      if (!uri) return uri.error();
      if (type->value == "PART") pl.preload_hint_uri = std::move(*uri);
    } else if (tag == "#EXT-X-ENDLIST") {
      pl.ended = true;
    }
    // Other tags (PROGRAM-DATE-TIME, RENDITION-REPORT, ...) are ignored
    // (RFC 8216 4: clients ignore tags they do not recognize).
  }
  if (line_number == 0) return make_error("not a playlist: empty");
  if (expect_uri) return make_error("EXTINF not followed by a URI");
  if (variant_next) return make_error("EXT-X-STREAM-INF not followed by a URI");
  if (pl.multivariant) {
    if (media_tags) return make_error("a playlist with both EXT-X-STREAM-INF and media segments");
    return pl;
  }
  if (!have_target) return make_error("media playlist without EXT-X-TARGETDURATION");
  if (!pending.parts.empty()) {  // the open segment
    if (auto s = push_segment(); !s) return s.error();
  }
  uint64_t msn = pl.first_listed_msn();
  for (HlsSegment& segment : pl.segments) segment.msn = msn++;
  return pl;
}

Result<std::string> resolve_uri(std::string_view base_path, std::string_view uri,
                                std::string_view authority) {
  if (!valid_uri(uri)) return make_error("bad URI '{}'", uri.substr(0, 80));
  if (uri.front() == '#') return make_error("fragment-only URI '{}'", uri.substr(0, 80));
  uri = uri.substr(0, uri.find('#'));
  std::string_view query;
  auto split_query = [&](std::string_view path) {
    size_t q = path.find('?');
    query = q == std::string_view::npos ? std::string_view{} : path.substr(q);
    return path.substr(0, q);
  };
  size_t scheme_end = uri.find("://");
  size_t first_delim = uri.find_first_of("/?");
  if (scheme_end != std::string_view::npos && scheme_end < first_delim) {
    std::string_view scheme = uri.substr(0, scheme_end);
    if (!iequals(scheme, "http"))
      return make_error("URI of another scheme '{}'", uri.substr(0, 80));
    std::string_view rest = uri.substr(scheme_end + 3);
    size_t slash = rest.find_first_of("/?");
    std::string_view host = rest.substr(0, slash);
    if (!iequals(host, authority)) {
      return make_error("URI on another server '{}'", uri.substr(0, 80));
    }
    std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
    if (path.front() == '?') return "/" + std::string(path);
    std::string_view clean = split_query(path);
    return remove_dot_segments(clean) + std::string(query);
  }
  if (uri.substr(0, 2) == "//") return make_error("network-path URI '{}'", uri.substr(0, 80));
  if (uri.front() == '/') {
    std::string_view clean = split_query(uri);
    return remove_dot_segments(clean) + std::string(query);
  }
  // A relative reference: merged with the base path's directory.
  std::string_view base = base_path.substr(0, base_path.find('?'));
  if (base.empty() || base.front() != '/')
    return make_error("bad base path '{}'", base.substr(0, 80));
  std::string merged(base.substr(0, base.rfind('/') + 1));
  if (uri.front() == '?') {
    merged = std::string(base);
    return merged + std::string(uri);
  }
  std::string_view clean = split_query(uri);
  merged.append(clean);
  return remove_dot_segments(merged) + std::string(query);
}

}  // namespace cascade::loadgen
