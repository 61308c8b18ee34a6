// HLS request targets: which playlist, init section, segment or part a URL
// names, and the LL-HLS delivery directives in its query (8216bis 6.2.5).
// Parses untrusted bytes; fuzzed by fuzz/hls_request_fuzz.cpp.
//
// URL layout (documented in README "HLS"):
//   /{app}/{stream}.m3u8                    master playlist
//   /{app}/{stream}/index.m3u8              fMP4 media playlist (LL-HLS)
//   /{app}/{stream}/ts.m3u8                 MPEG-TS media playlist
//   /{app}/{stream}/dvr.m3u8, ts-dvr.m3u8   the same over the DVR window
//   /{app}/{stream}/{epoch}/init{n}.mp4     fMP4 init section n
//   /{app}/{stream}/{epoch}/s{msn}.m4s      fMP4 segment
//   /{app}/{stream}/{epoch}/p{msn}.{i}.m4s  fMP4 partial segment i of msn
//   /{app}/{stream}/{epoch}/s{msn}.ts       MPEG-TS segment
// {epoch} names one life of the stream, so segment URLs are never reused
// with other bytes and can be cached as immutable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade::hls {

enum class Resource : uint8_t {
  kMaster,
  kFmp4Playlist,
  kTsPlaylist,
  kFmp4DvrPlaylist,
  kTsDvrPlaylist,
  kInit,
  kFmp4Segment,
  kPart,
  kTsSegment,
};

bool is_playlist(Resource resource);

struct HlsTarget {
  std::string app;  // percent-decoded
  std::string stream;
  Resource resource = Resource::kMaster;
  std::string epoch;     // media resources only
  uint64_t number = 0;   // msn, or the init section's number
  uint32_t part = 0;     // kPart only
};

// Parses a request path (no query). nullopt: not an HLS URL (another route
// may take it). Percent-escapes in app and stream are decoded; the caller
// validates them as a stream key.
std::optional<HlsTarget> parse_hls_path(std::string_view path);

// 8216bis 6.2.5: _HLS_msn, _HLS_part, _HLS_skip. Other parameters are ignored.
struct DeliveryDirectives {
  std::optional<uint64_t> msn;
  std::optional<uint32_t> part;
  bool skip = false;  // _HLS_skip=YES or v2
};

// Errors (answered 400, 8216bis 6.2.5.2): _HLS_part without _HLS_msn, a
// value that is not a decimal integer in range, or a repeated directive.
Result<DeliveryDirectives> parse_delivery_directives(std::string_view query);

}  // namespace cascade::hls
