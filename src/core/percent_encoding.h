// RFC 3986 2.1 percent-decoding, for URL paths and query values.
#pragma once

#include <string>
#include <string_view>

namespace cascade {

// Decodes `in` into `out`. False on a malformed escape ("%", "%4", "%zz") or
// a decoded NUL; callers add their own rules (e.g. no '/' in a segment).
bool percent_decode(std::string_view in, std::string& out);

}  // namespace cascade
