#include "loadgen/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace cascade::loadgen {

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kRtmp:
      return "rtmp";
    case Mode::kFlv:
      return "flv";
    case Mode::kHls:
      return "hls";
  }
  return "?";
}

Result<Mode> parse_mode(std::string_view text) {
  if (text == "rtmp") return Mode::kRtmp;
  if (text == "flv" || text == "http-flv") return Mode::kFlv;
  if (text == "hls") return Mode::kHls;
  return make_error("unknown mode '{}' (rtmp, flv, hls)", text);
}

std::string_view hls_playlist_name(HlsPlaylistChoice choice) {
  switch (choice) {
    case HlsPlaylistChoice::kIndex:
      return "index";
    case HlsPlaylistChoice::kTs:
      return "ts";
    case HlsPlaylistChoice::kUrl:
      return "url";
  }
  return "?";
}

Result<HlsPlaylistChoice> parse_hls_playlist(std::string_view text) {
  if (text == "index") return HlsPlaylistChoice::kIndex;
  if (text == "ts") return HlsPlaylistChoice::kTs;
  if (text == "url") return HlsPlaylistChoice::kUrl;
  return make_error("unknown --hls-playlist '{}' (index, ts, url)", text);
}

Result<std::string> hls_playlist_path(std::string_view path, HlsPlaylistChoice choice) {
  const size_t question = path.find('?');
  const std::string_view clean = path.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : path.substr(question);
  if (!clean.ends_with(".m3u8")) return make_error("an HLS URL names a .m3u8 playlist: '{}'", path);
  if (choice == HlsPlaylistChoice::kUrl) return std::string(path);
  const std::string file = std::string(hls_playlist_name(choice)) + ".m3u8";
  const size_t slash = clean.rfind('/');
  const std::string_view name = clean.substr(slash + 1);
  std::string out;
  if (name == "index.m3u8" || name == "ts.m3u8") {
    out = std::string(clean.substr(0, slash + 1)) + file;
  } else {
    if (name == ".m3u8") return make_error("no stream name in '{}'", path);
    out = std::string(clean.substr(0, clean.size() - 5)) + "/" + file;
  }
  return out + std::string(query);
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return make_error("URL '{}' has no scheme", text);
  url.scheme = std::string(text.substr(0, sep));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme == "rtmp") {
    url.port = 1935;
  } else if (url.scheme == "http") {
    url.port = 80;
  } else {
    return make_error("unsupported URL scheme '{}' (rtmp, http)", url.scheme);
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return make_error("URL user info is not supported");
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("bad IPv6 literal in '{}'", text);
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("bad authority '{}'", authority);
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return make_error("URL '{}' has no host", text);
  url.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return make_error("bad port '{}'", port);
    }
    url.port = static_cast<uint16_t>(value);
  }
  if (url.scheme == "rtmp") {
    std::string_view path = std::string_view(url.path).substr(1);
    size_t app_end = path.find('/');
    if (app_end == std::string_view::npos || app_end == 0 || app_end + 1 >= path.size()) {
      return make_error("RTMP URL needs /app/stream: '{}'", text);
    }
    url.app = std::string(path.substr(0, app_end));
    url.stream = std::string(path.substr(app_end + 1));
  }
  return url;
}

Result<Mode> validate(const Options& options, const Url& url) {
  Mode mode;
  if (options.mode) {
    mode = *options.mode;
  } else if (url.scheme == "rtmp") {
    mode = Mode::kRtmp;
  } else {
    std::string_view path = std::string_view(url.path).substr(0, url.path.find('?'));
    mode = path.ends_with(".m3u8") ? Mode::kHls : Mode::kFlv;
  }
  if (mode == Mode::kRtmp && url.scheme != "rtmp") {
    return make_error("--mode rtmp needs an rtmp:// URL");
  }
  if ((mode == Mode::kFlv || mode == Mode::kHls) && url.scheme != "http") {
    return make_error("--mode {} needs an http:// URL", mode_name(mode));
  }
  if (options.viewers == 0) return make_error("--viewers must be at least 1");
  if (options.threads == 0 || options.threads > 256) return make_error("--threads must be 1..256");
  if (!(options.ramp_per_s > 0)) return make_error("--ramp must be positive");
  if (!(options.duration_s > 0)) return make_error("--duration must be positive");
  if (options.fps && !(*options.fps > 0)) return make_error("--fps must be positive");
  if (options.rcvbuf && *options.rcvbuf <= 0) return make_error("--rcvbuf must be positive");
  if (options.batch_ms > 100) return make_error("--batch-ms must be 0..100");
  if (mode == Mode::kHls) {
    if (auto path = hls_playlist_path(url.path, options.hls_playlist); !path) return path.error();
  }
  if (!(options.slow_fraction >= 0 && options.slow_fraction <= 1)) {
    return make_error("--slow-fraction must be in [0, 1]");
  }
  if (options.streams == 0) return make_error("--streams must be at least 1");
  if (options.streams > 1 && url.path.find("{n}") == std::string::npos) {
    return make_error(
        "--streams {} needs \"{{n}}\" in the URL's path (replaced by the stream number)",
        options.streams);
  }
  if (options.slow_fraction > 0 && !(options.slow_rate > 0)) {
    return make_error("--slow-fraction needs --slow-rate BYTES_PER_S");
  }
  return mode;
}

bool is_slow_viewer(uint32_t index, double fraction) {
  if (fraction <= 0) return false;
  return std::floor((index + 1) * fraction) > std::floor(index * fraction);
}

std::string stream_url(std::string_view url, uint32_t n) {
  std::string out;
  const std::string number = std::to_string(n);
  size_t at = 0;
  for (size_t hit = url.find("{n}"); hit != std::string_view::npos; hit = url.find("{n}", at)) {
    out.append(url.substr(at, hit - at));
    out.append(number);
    at = hit + 3;
  }
  out.append(url.substr(at));
  return out;
}

}  // namespace cascade::loadgen
