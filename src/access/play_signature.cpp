#include "access/play_signature.h"

#include <fmt/format.h>

#include "core/url_signature.h"

namespace cascade::access {
namespace {

// 1 to 19 decimal digits: fits int64 with room.
bool parse_expires(std::string_view text, int64_t& value) {
  if (text.empty() || text.size() > 19) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::string play_signature_message(std::string_view app, std::string_view stream,
                                   std::string_view expires, std::string_view client_ip) {
  return fmt::format("cascade-play\n{}/{}\n{}\n{}", app, stream, expires, client_ip);
}

std::string sign_play_query(std::string_view secret, std::string_view app, std::string_view stream,
                            uint64_t expires_unix_s, std::string_view client_ip) {
  const std::string expires = std::to_string(expires_unix_s);
  const std::string sig =
      sign_message(secret, play_signature_message(app, stream, expires, client_ip));
  return client_ip.empty() ? fmt::format("expires={}&sig={}", expires, sig)
                           : fmt::format("expires={}&ip=1&sig={}", expires, sig);
}

PlaySignatureCheck check_play_signature(std::string_view secret, bool required,
                                        const AccessRequest& request, int64_t now_unix_s) {
  if (secret.empty()) return {AccessDecision::allow(), {}};
  const std::string_view sig = request_parameter(request, "sig");
  if (sig.empty()) {
    if (!required) return {AccessDecision::allow(), {}};
    return {AccessDecision::deny("a signed URL is required to play (expires=...&sig=...)"), {}};
  }
  const std::string_view expires_text = request_parameter(request, "expires");
  int64_t expires = 0;
  if (!parse_expires(expires_text, expires)) {
    return {AccessDecision::deny("signed URL without a valid expires parameter"), {}};
  }
  const std::string_view ip_flag = request_parameter(request, "ip");
  if (!ip_flag.empty() && ip_flag != "1") {
    return {AccessDecision::deny("signed URL with an invalid ip parameter (only ip=1)"), {}};
  }
  const bool ip_bound = ip_flag == "1";
  const std::string message =
      play_signature_message(request.app, request.stream, expires_text,
                             ip_bound ? std::string_view(request.client_ip) : "");
  if (!verify_message(secret, message, sig)) {
    return {AccessDecision::deny(ip_bound ? "bad signature (or signed for another client address)"
                                          : "bad signature"),
            {}};
  }
  // Checked after the signature, so a forged URL learns nothing about time.
  if (now_unix_s > expires) {
    return {AccessDecision::deny(fmt::format("the signed URL expired at {}", expires)), {}};
  }
  std::string token = ip_bound ? fmt::format("expires={}&ip=1&sig={}", expires_text, sig)
                               : fmt::format("expires={}&sig={}", expires_text, sig);
  return {AccessDecision::allow(), std::move(token)};
}

}  // namespace cascade::access
