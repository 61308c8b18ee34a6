// Stream keys: "app/stream", the one name a live stream has across
// protocols (rtmp://host/app/stream, http://host/app/stream.flv).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade::live {

// Each part: 1..128 characters from [A-Za-z0-9._~-] plus a few RFC 3986
// sub-delims that are safe in URL paths and file names (!$&'()*+,;=:@).
// No '/', '%', '?', '#', whitespace or control characters, and not "." or "..".
Result<std::string> make_stream_key(std::string_view app, std::string_view stream);

}  // namespace cascade::live
