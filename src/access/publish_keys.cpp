#include "access/publish_keys.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "core/percent_encoding.h"

namespace cascade::access {

AccessDecision PublishKeys::check(const AccessRequest& request) const {
  auto found = keys_.find(request.app);
  if (found == keys_.end()) return AccessDecision::allow();
  const std::string_view raw = request_parameter(request, "key");
  std::string given;
  if (raw.empty() || !percent_decode(raw, given) || given.empty()) {
    return AccessDecision::deny(
        fmt::format("a stream key is required to publish to app '{}' (add ?key=...)", request.app));
  }
  bool match = false;
  for (const std::string& key : found->second) {
    // Every key is compared, so timing says nothing about which one matched.
    if (key.size() == given.size() && CRYPTO_memcmp(key.data(), given.data(), key.size()) == 0) {
      match = true;
    }
  }
  if (!match) {
    return AccessDecision::deny(fmt::format("wrong stream key for app '{}'", request.app));
  }
  return AccessDecision::allow();
}

}  // namespace cascade::access
