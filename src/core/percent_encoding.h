// RFC 3986 2.1 percent-decoding, for URL paths and query values.
#pragma once

#include <string>
#include <string_view>

namespace cascade {

// Decodes `in` into `out`. False on a malformed escape ("%", "%4", "%zz") or
// a decoded NUL; callers add their own rules (e.g. no '/' in a segment).
bool percent_decode(std::string_view in, std::string& out);

// RFC 3986 2.3: appends `text` with everything but unreserved characters
// (ALPHA DIGIT - . _ ~) percent-encoded (upper-case hex, 2.1), so the result
// is always one relative path segment or one query value ("a:b" cannot
// become a scheme, "a/b" two segments).
void append_percent_encoded(std::string& out, std::string_view text);
std::string percent_encode(std::string_view text);

}  // namespace cascade
