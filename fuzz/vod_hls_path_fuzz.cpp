// Fuzzes the VOD HLS path parser (src/vod/vod_hls_path.h). Contracts: an
// accepted path is exactly "{file}/{resource name}" where {file} has an
// MP4-family extension and the name, spelled back from the parsed target,
// is the rest of the input byte for byte (so there is one spelling per
// resource: no leading zeros, no escapes); segment numbers stay below 10^9.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vod/vod_hls_path.h"

namespace {

std::string name_of(const cascade::vod::VodHlsTarget& target) {
  using cascade::vod::VodHlsResource;
  switch (target.resource) {
    case VodHlsResource::kMaster:
      return "master.m3u8";
    case VodHlsResource::kFmp4Playlist:
      return "index.m3u8";
    case VodHlsResource::kTsPlaylist:
      return "ts.m3u8";
    case VodHlsResource::kInit:
      return "init.mp4";
    case VodHlsResource::kFmp4Segment:
      return "s" + std::to_string(target.segment) + ".m4s";
    case VodHlsResource::kTsSegment:
      return "s" + std::to_string(target.segment) + ".ts";
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade::vod;
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  const auto split = split_vod_hls_path(path);
  if (!split) return 0;
  if (split->file.data() != path.data() || !is_hls_source_name(split->file)) __builtin_trap();
  if (split->target.segment >= 1'000'000'000u) __builtin_trap();
  const std::string expected = std::string(split->file) + "/" + name_of(split->target);
  if (expected != path) __builtin_trap();
  (void)vod_hls_content_type(split->target.resource);
  return 0;
}
