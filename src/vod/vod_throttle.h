// VOD throttling (config vod.throttle*): which responses are paced, and how.
// A media file's body (whole, ranges, MP4 clips) goes out at its bitrate
// (media_bitrate.h) x throttle_factor after throttle_burst_s seconds of
// media at once, so a paused player does not pull the whole file. A signed
// ?rate= (throttle_override.h) sets the factor for one request; 0 lifts the
// throttle. Files with no known bitrate are never paced.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.h"
#include "vod/throttle.h"
#include "vod/vod_caches.h"
#include "vod/vod_file_request.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

// The factor a signed override in `query` asks for (nullopt: none), checked
// against the root's secret and the current time. Errors are answered 403.
Result<std::optional<double>> requested_rate_override(const VodSettings& settings,
                                                      std::string_view url_path,
                                                      std::string_view query);

// The pacer of `r`'s body, or nullopt to send it unpaced: no body (HEAD),
// throttling off and no override, an override of 0, no known bitrate.
std::optional<TokenBucket> make_response_pacer(const VodFileRequest& r,
                                               std::optional<double> rate_override,
                                               VodCaches& caches);

}  // namespace cascade::vod
