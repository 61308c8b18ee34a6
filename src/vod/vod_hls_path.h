// HLS request paths for on-demand MP4 files: which resource of which file a
// VOD URL names. The names follow live HLS (protocols/hls/hls_request.h):
// index.m3u8 is the fMP4 media playlist, ts.m3u8 the MPEG-TS one, s{n}
// the segments; the master playlist is master.m3u8 (as nginx-vod-module
// names it; live uses {stream}.m3u8, which here would be a file name).
//
//   /vod/{file}/master.m3u8   master playlist (both media playlists)
//   /vod/{file}/index.m3u8    fMP4 (CMAF) media playlist
//   /vod/{file}/init.mp4      its init section (EXT-X-MAP)
//   /vod/{file}/s{n}.m4s      fMP4 segment n (0-based)
//   /vod/{file}/ts.m3u8       MPEG-TS media playlist
//   /vod/{file}/s{n}.ts       MPEG-TS segment n
//
// {file} is an MP4-family file (.mp4 .m4v .m4a .mov .3gp, any case). The
// playlists add ?v={version} to segment and init URIs (vod_hls.h).
//
// Parses untrusted bytes; fuzzed by fuzz/vod_hls_path_fuzz.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cascade::vod {

enum class VodHlsResource : uint8_t {
  kMaster,
  kFmp4Playlist,
  kTsPlaylist,
  kInit,
  kFmp4Segment,
  kTsSegment,
};

// Segment numbers have at most this many digits (a 6 s segment plan of a
// file would need 190 years to reach 10^9 segments).
inline constexpr size_t kMaxSegmentDigits = 9;

struct VodHlsTarget {
  VodHlsResource resource = VodHlsResource::kMaster;
  uint32_t segment = 0;  // kFmp4Segment and kTsSegment only
};

struct VodHlsPath {
  std::string_view file;  // the MP4's URL path, still percent-encoded (vod_path.h decodes it)
  VodHlsTarget target;
};

// True for the extensions served as HLS: mp4, m4v, m4a, mov, 3gp (any case).
bool is_hls_source_name(std::string_view name);

// Splits `url_path` (the part after the VOD prefix, raw) into the MP4 and
// the resource. nullopt: not an HLS URL, the route serves the path as a
// file (its last segment is not one of the names above spelled exactly, or
// what precedes it is not an MP4-family name). Strict: segment numbers are
// decimal without sign or leading zeros and at most kMaxSegmentDigits
// digits; no percent-escapes in the resource name.
std::optional<VodHlsPath> split_vod_hls_path(std::string_view url_path);

// The Content-Type live HLS uses for the resource (servers/hls):
// application/vnd.apple.mpegurl, video/mp4 (init), video/iso.segment
// (fMP4 segments), video/mp2t.
std::string_view vod_hls_content_type(VodHlsResource resource);

}  // namespace cascade::vod
