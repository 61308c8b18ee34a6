// The client side of HLS playlists (RFC 8216 and its 2nd edition,
// draft-pantos-hls-rfc8216bis, "8216bis" below): a parser of untrusted
// playlist text into what an LL-HLS player needs (segments with their Media
// Sequence Numbers, partial segments, server control, preload hint), with
// the checks a conforming server must pass; and the resolution of the URIs
// it lists into request paths on the same server.
//
// Pure functions; unit-tested (hls_playlist_test.cpp) and fuzzed
// (loadgen_parsers_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cascade::loadgen {

struct HlsPart {
  int64_t duration_us = 0;
  bool independent = false;  // INDEPENDENT=YES
  std::string uri;
};

struct HlsSegment {
  uint64_t msn = 0;          // Media Sequence Number (RFC 8216 6.3.2: by position)
  int64_t duration_us = -1;  // EXTINF; -1 while the segment is open (parts only)
  bool discontinuity = false;
  std::string uri;      // empty while open
  std::string map_uri;  // EXT-X-MAP in effect; empty: none (MPEG-TS)
  std::vector<HlsPart> parts;

  bool complete() const { return !uri.empty(); }
};

struct HlsPlaylist {
  // A multivariant ("master") playlist: the variant URIs, in order; the
  // other fields are then unset.
  bool multivariant = false;
  std::vector<std::string> variants;

  int version = 1;
  int64_t target_duration_s = 0;
  uint64_t media_sequence = 0;
  uint64_t skipped_segments = 0;  // EXT-X-SKIP (delta update)
  bool can_block_reload = false;  // EXT-X-SERVER-CONTROL
  std::optional<int64_t> can_skip_until_us;
  std::optional<int64_t> part_hold_back_us;
  std::optional<int64_t> part_target_us;  // EXT-X-PART-INF: the playlist is LL-HLS
  bool ended = false;                     // EXT-X-ENDLIST
  std::string preload_hint_uri;           // EXT-X-PRELOAD-HINT TYPE=PART
  // Listed segments, oldest first; the msn of segments[i] is
  // media_sequence + skipped_segments + i. Only the last one may be open.
  std::vector<HlsSegment> segments;

  // The listed segment with this msn, or null.
  const HlsSegment* find(uint64_t msn) const;
  // The msn of the first listed segment (media_sequence + skipped).
  uint64_t first_listed_msn() const { return media_sequence + skipped_segments; }
};

inline constexpr size_t kMaxPlaylistSegments = 100'000;
inline constexpr size_t kMaxPartsPerSegment = 10'000;

// Parses a playlist. Errors name the first violation: not a playlist
// (#EXTM3U), malformed tag or attribute list, a URI line without EXTINF or
// EXTINF without a URI, a missing or repeated EXT-X-TARGETDURATION, an
// EXTINF whose rounded duration exceeds it (RFC 8216 4.3.3.1), an
// EXT-X-PART without EXT-X-PART-INF or longer than PART-TARGET (8216bis
// 4.4.4.9), EXT-X-MEDIA-SEQUENCE or EXT-X-SKIP after the first segment, a
// CR/LF-free URI that still holds control characters, too many entries.
Result<HlsPlaylist> parse_playlist(std::string_view text);

// RFC 8216 4.2 decimal-floating-point seconds (unsigned), in microseconds
// (digits past the sixth decimal are truncated).
std::optional<int64_t> parse_seconds_us(std::string_view text);

// Resolves a URI from a playlist at `base_path` (a request path, maybe with a
// query) into the path to request from the same server (RFC 3986 5.2,
// dot-segments removed). Absolute http:// URIs must name `authority`
// (host:port as sent in Host). Errors: another server or scheme, a URI with
// control characters, spaces or a fragment-only reference.
Result<std::string> resolve_uri(std::string_view base_path, std::string_view uri,
                                std::string_view authority);

}  // namespace cascade::loadgen
