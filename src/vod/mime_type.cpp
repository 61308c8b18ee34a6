#include "vod/mime_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace cascade::vod {

std::string_view mime_type_for(std::string_view path) {
  struct Entry {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr std::array<Entry, 26> kTypes = {{
      {"mp4", "video/mp4"},
      {"m4v", "video/mp4"},
      {"m4a", "audio/mp4"},
      {"mov", "video/quicktime"},
      {"3gp", "video/3gpp"},
      {"flv", "video/x-flv"},
      {"ts", "video/mp2t"},
      {"m4s", "video/iso.segment"},
      {"m3u8", "application/vnd.apple.mpegurl"},
      {"mp3", "audio/mpeg"},
      {"aac", "audio/aac"},
      {"webm", "video/webm"},
      {"mkv", "video/x-matroska"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"png", "image/png"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"txt", "text/plain; charset=utf-8"},
      {"vtt", "text/vtt; charset=utf-8"},
      {"srt", "application/x-subrip"},
      {"json", "application/json"},
      {"html", "text/html; charset=utf-8"},
      {"css", "text/css"},
      {"js", "text/javascript"},
  }};
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string extension(path.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const Entry& entry : kTypes) {
    if (entry.extension == extension) return entry.type;
  }
  return "application/octet-stream";
}

bool is_mp4_family(std::string_view path) {
  const std::string_view type = mime_type_for(path);
  return type == "video/mp4" || type == "audio/mp4" || type == "video/quicktime" ||
         type == "video/3gpp";
}

}  // namespace cascade::vod
