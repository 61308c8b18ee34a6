// A per-request throttle override, signed so only whoever holds the root's
// `throttle_secret` can mint one:
//
//   {path}?rate=F&expires=T&sig=HEX
//
// F is the factor over the file's bitrate for this response (0: not
// throttled), T a Unix time in seconds after which the URL is refused, and
// HEX the signature (core/url_signature.h) of throttle_override_message(path,
// F, T) under the secret: the URL path exactly as sent (still
// percent-encoded) and F and T exactly as they appear in the query. Other
// query parameters (an MP4 seek's start/end) are not signed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade::vod {

// "cascade-vod-rate\n{path}\n{rate}\n{expires}": what the signature covers.
std::string throttle_override_message(std::string_view url_path, std::string_view rate,
                                      std::string_view expires);

// The override `query` carries for `url_path`: nullopt when it has none of
// rate, expires or sig; else the factor (0 = unthrottled). Errors (answered
// 403, with the message): overrides not enabled (empty secret), a parameter
// missing or given twice, a rate that is not 0 or a number in [0.1, 100],
// an expires that is not a Unix time, a signature that does not verify, a
// time in the past (`now_unix_s`).
Result<std::optional<double>> verify_throttle_override(std::string_view url_path,
                                                       std::string_view query,
                                                       std::string_view secret, int64_t now_unix_s);

}  // namespace cascade::vod
