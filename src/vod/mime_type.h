// Content types of files served from VOD roots, by extension.
#pragma once

#include <string_view>

namespace cascade::vod {

// "video/mp4" for "movie.MP4"; "application/octet-stream" when unknown.
std::string_view mime_type_for(std::string_view path);

}  // namespace cascade::vod
