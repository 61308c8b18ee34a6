// FLV pseudo-streaming seek on files under a VOD root (media/flv_seek.h):
//   vod.flv_start_unit = "bytes" (default): ?start=N, N the byte offset of a
//     video keyframe tag, as Flash players (JW Player, Flowplayer) send it
//     from onMetaData keyframes.filepositions;
//   vod.flv_start_unit = "seconds": ?start=S[&end=E], seconds with decimals.
// The answer is an FLV header, the file's onMetaData and sequence header
// tags, then the file's tags from the seek point (to the cut before E), the
// tags sent from the file by sendfile. Timestamps stay as in the file.
// Range headers are not applied to seeks; each seek is its own ETag.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "media/flv_seek.h"
#include "vod/flv_index_cache.h"
#include "vod/vod_file_request.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

// The seek a query asks for; nullopt when it has neither start nor end.
// Other parameters are ignored. Errors: bytes: a start that is not a
// non-negative integer, any end; seconds: a start or end that is not a
// finite non-negative number, end <= start.
Result<std::optional<flv::FlvSeekRequest>> parse_flv_seek(std::string_view query,
                                                          FlvStartUnit unit);

// Answers a seek in an FLV file. nullopt: no seek was asked, or it starts at
// the beginning: the caller serves the file as it is. Otherwise 400 (bad
// query, or start is not a keyframe tag), 416 (start past the end), 422 (a
// file that cannot be indexed or seeked; logged) or the seek's answer. The
// index is built on the calling worker on a cache miss (pread).
boost::asio::awaitable<std::optional<net::HttpOutcome>> answer_flv_seek(VodFileRequest& r,
                                                                        FlvIndexCache& indexes);

}  // namespace cascade::vod
