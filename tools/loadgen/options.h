// loadgen's command line: the options, the URL forms it plays, and their
// validation. Pure (no I/O) so it is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade::loadgen {

// How a virtual viewer plays: RTMP play, HTTP-FLV, or HLS (an LL-HLS player:
// playlist reloads, parts or segments; hls_play_session.h).
enum class Mode : uint8_t { kRtmp, kFlv, kHls };

std::string_view mode_name(Mode mode);
Result<Mode> parse_mode(std::string_view text);

// Which media playlist an HLS viewer plays (--hls-playlist): Cascade's fMP4
// LL-HLS playlist (index.m3u8), its MPEG-TS one (ts.m3u8), or the URL as
// given (a multivariant playlist: its first variant).
enum class HlsPlaylistChoice : uint8_t { kIndex, kTs, kUrl };

std::string_view hls_playlist_name(HlsPlaylistChoice choice);
Result<HlsPlaylistChoice> parse_hls_playlist(std::string_view text);

// The path an HLS viewer requests first, from the URL's path (its query is
// kept). kUrl: the path itself. kIndex / kTs, in Cascade's layout: a
// multivariant /{app}/{stream}.m3u8 becomes /{app}/{stream}/index.m3u8 (or
// ts.m3u8), and a path ending in /index.m3u8 or /ts.m3u8 gets that file name
// replaced. Errors: a path not ending in .m3u8.
Result<std::string> hls_playlist_path(std::string_view path, HlsPlaylistChoice choice);

// rtmp://host[:port]/app/stream[?query] (app is the first path segment) or
// http://host[:port]/path (HTTP-FLV: /app/stream.flv; HLS: .../index.m3u8).
struct Url {
  std::string scheme;  // "rtmp" or "http", lower case
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // the scheme's default (1935, 80) when absent
  std::string path;    // from the first '/' on, query included
  std::string app;     // rtmp: first path segment
  std::string stream;  // rtmp: the rest (with its query)
};

Result<Url> parse_url(std::string_view text);

struct Options {
  std::string url;
  std::optional<Mode> mode;  // inferred from the URL when absent
  uint32_t viewers = 1;
  double ramp_per_s = 500;
  double duration_s = 10;
  uint32_t threads = 1;
  std::optional<double> fps;
  std::optional<int> rcvbuf;
  double slow_fraction = 0;
  double slow_rate = 0;  // bytes per second
  bool json = false;
  bool digest = false;
  bool http10 = false;
  uint32_t setup_timeout_ms = 10'000;
  uint32_t batch_ms = 0;
  HlsPlaylistChoice hls_playlist = HlsPlaylistChoice::kIndex;
  bool hls_skip = false;           // delta updates (_HLS_skip=YES) when offered
  uint32_t stall_slack_ms = 1000;  // HLS: a stall is an item later than its duration + this
  // Viewers spread over this many streams: "{n}" in the URL is replaced by
  // viewer index % streams (stream_url).
  uint32_t streams = 1;
};

// The URL viewer-stream `n` plays: `url` with every "{n}" replaced by n.
std::string stream_url(std::string_view url, uint32_t n);

// Checks ranges and combinations, infers the mode from the URL, and returns
// the mode to use. Errors are meant for the user.
// --streams above 1 needs "{n}" in the URL's path.
Result<Mode> validate(const Options& options, const Url& url);

// Viewer `index` of `viewers` belongs to the slow group: the floor(viewers *
// fraction) slow viewers are spread evenly over the ramp.
bool is_slow_viewer(uint32_t index, double fraction);

}  // namespace cascade::loadgen
