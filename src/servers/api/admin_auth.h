// Admin credential: a bearer token (RFC 6750 2.1, "Authorization: Bearer
// <token>") checked against the configured one ([admin] token) in constant
// time. Thread-safe (no state).
#pragma once

#include <string_view>

namespace cascade::servers {

enum class AdminAccess {
  kAllowed,
  kDisabled,  // no token configured: admin endpoints are denied (403)
  kMissing,   // no bearer credential in the request (401)
  kWrong,     // a bearer credential that does not match (401)
};

// `authorization`: the request's Authorization header value (empty if none).
AdminAccess check_admin_access(std::string_view configured_token, std::string_view authorization);

// True when a == b. The time taken depends on neither the contents nor
// where they differ, nor on which is longer: both are hashed (HMAC-SHA256)
// and the digests compared with CRYPTO_memcmp.
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace cascade::servers
