// RFC 9110 5.6.7 HTTP dates (IMF-fixdate), for Date, Last-Modified,
// If-Modified-Since and If-Range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::net {

// "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(int64_t unix_s);
// IMF-fixdate only (the obsolete RFC 850 and asctime forms are not parsed).
std::optional<int64_t> parse_http_date(std::string_view text);

}  // namespace cascade::net
