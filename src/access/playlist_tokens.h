// Carrying a play token into an HLS playlist: the query is appended to
// every URI the playlist holds (RFC 8216bis 4.1: URI lines, and the URI
// attribute of tags: EXT-X-MAP, EXT-X-PART, EXT-X-PRELOAD-HINT,
// EXT-X-RENDITION-REPORT, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, ...), so a
// player that resolves them keeps the token. Only the playlist text
// changes per request; segments stay shared.
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace cascade::access {

// `query` must be safe in a quoted attribute and on a line (no '"', CR, LF,
// '#'); play tokens are digits, hex and "=&". A URI that already has a query
// gets "&query", others "?query". Lines and attributes keep their order and
// line endings.
std::string append_query_to_playlist_uris(std::string_view playlist, std::string_view query);

// The part of a client's query that playlists carry when an on_play webhook
// decides (so segment requests show the hook the same parameters): every
// parameter but the LL-HLS directives (_HLS_*, 8216bis 6.2.5), in order,
// keeping only those made of URI characters safe in a playlist (RFC 3986
// unreserved, pct-encoded, and !$'()*+,;=:@/?) and at most
// kMaxCarriedQuery bytes in all.
inline constexpr size_t kMaxCarriedQuery = 1024;
std::string playlist_carried_query(std::string_view query);

}  // namespace cascade::access
