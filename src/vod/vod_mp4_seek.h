// MP4 time seek: ?start=S[&end=E][&exact=1] (seconds, decimals) answered
// with a self-contained MP4 made of a rebuilt head and ranges of the file
// (media/mp4_clip.h). Range headers are not applied to clips.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "media/mp4_clip.h"
#include "vod/mp4_index_cache.h"
#include "vod/vod_file_request.h"

namespace cascade::vod {

// The seek a query asks for; nullopt when it asks for none. Errors: a
// start or end that is not a finite non-negative number, end <= start.
Result<std::optional<media::Mp4ClipRequest>> parse_mp4_seek(std::string_view query);

// Answers a seek in an MP4-family file. nullopt: no seek was asked, or the
// file is fragmented (no moov index): the caller serves the file as it is.
// Otherwise 400 (bad query), 416 (start past the end), 422 (a file that
// cannot be indexed) or the clip.
boost::asio::awaitable<std::optional<net::HttpOutcome>> answer_mp4_seek(VodFileRequest& r,
                                                                        Mp4IndexCache& indexes);

}  // namespace cascade::vod
