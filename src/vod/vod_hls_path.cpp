#include "vod/vod_hls_path.h"

#include "vod/mime_type.h"

namespace cascade::vod {
namespace {

// "0" or a decimal number without a leading zero, at most kMaxSegmentDigits
// digits.
std::optional<uint32_t> segment_number(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxSegmentDigits) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  uint32_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

std::optional<VodHlsTarget> resource_named(std::string_view name) {
  if (name == "master.m3u8") return VodHlsTarget{VodHlsResource::kMaster, 0};
  if (name == "index.m3u8") return VodHlsTarget{VodHlsResource::kFmp4Playlist, 0};
  if (name == "ts.m3u8") return VodHlsTarget{VodHlsResource::kTsPlaylist, 0};
  if (name == "init.mp4") return VodHlsTarget{VodHlsResource::kInit, 0};
  if (name.size() < 2 || name[0] != 's') return std::nullopt;
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view extension = name.substr(dot);
  VodHlsResource resource;
  if (extension == ".m4s") {
    resource = VodHlsResource::kFmp4Segment;
  } else if (extension == ".ts") {
    resource = VodHlsResource::kTsSegment;
  } else {
    return std::nullopt;
  }
  auto number = segment_number(name.substr(1, dot - 1));
  if (!number) return std::nullopt;
  return VodHlsTarget{resource, *number};
}

}  // namespace

bool is_hls_source_name(std::string_view name) {
  const size_t dot = name.rfind('.');
  const size_t slash = name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return false;
  }
  // The name before the extension must not be empty ("/.mp4").
  if (dot == 0 || (slash != std::string_view::npos && dot == slash + 1)) return false;
  return is_mp4_family(name);
}

std::optional<VodHlsPath> split_vod_hls_path(std::string_view url_path) {
  const size_t slash = url_path.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view file = url_path.substr(0, slash);
  if (!is_hls_source_name(file)) return std::nullopt;
  auto target = resource_named(url_path.substr(slash + 1));
  if (!target) return std::nullopt;
  return VodHlsPath{file, *target};
}

std::string_view vod_hls_content_type(VodHlsResource resource) {
  switch (resource) {
    case VodHlsResource::kMaster:
    case VodHlsResource::kFmp4Playlist:
    case VodHlsResource::kTsPlaylist:
      return "application/vnd.apple.mpegurl";
    case VodHlsResource::kInit:
      return "video/mp4";
    case VodHlsResource::kFmp4Segment:
      return "video/iso.segment";
    case VodHlsResource::kTsSegment:
      return "video/mp2t";
  }
  return "application/octet-stream";
}

}  // namespace cascade::vod
