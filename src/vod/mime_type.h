// Content types of files served from VOD roots, by extension.
#pragma once

#include <string_view>

namespace cascade::vod {

// "video/mp4" for "movie.MP4"; "application/octet-stream" when unknown.
std::string_view mime_type_for(std::string_view path);

// True for the MP4 family (.mp4 .m4v .m4a .mov .3gp, any case): the files
// with a moov index, which seek by time and play as HLS.
bool is_mp4_family(std::string_view path);

}  // namespace cascade::vod
