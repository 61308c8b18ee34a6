#include "servers/api/admin_auth.h"

#include <openssl/crypto.h>

#include <string>

#include "core/url_signature.h"

namespace cascade::servers {

bool tokens_equal(std::string_view a, std::string_view b) {
  // Fixed-size digests: the comparison below cannot stop early at the first
  // differing byte, nor reveal the configured token's length.
  static constexpr std::string_view kKey = "cascade-admin-token";
  const std::string da = sign_message(kKey, a);
  const std::string db = sign_message(kKey, b);
  return da.size() == db.size() && CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

AdminAccess check_admin_access(std::string_view configured_token, std::string_view authorization) {
  if (configured_token.empty()) return AdminAccess::kDisabled;
  // RFC 6750 2.1: credentials = "Bearer" 1*SP b64token; the scheme name is
  // case-insensitive (RFC 9110 11.1).
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return AdminAccess::kMissing;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) != kScheme[i]) {
      return AdminAccess::kMissing;
    }
  }
  std::string_view given = authorization.substr(kScheme.size());
  if (given.front() != ' ') return AdminAccess::kMissing;
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) given.remove_suffix(1);
  if (given.empty()) return AdminAccess::kMissing;
  return tokens_equal(configured_token, given) ? AdminAccess::kAllowed : AdminAccess::kWrong;
}

}  // namespace cascade::servers
