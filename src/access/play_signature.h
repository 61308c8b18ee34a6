// Signed play URLs: HMAC-SHA256 (core/url_signature.h) over the stream, an
// expiry and optionally the client's IP address, carried as query
// parameters on every play URL (RTMP play name or tcUrl, HTTP-FLV, every
// HLS playlist, segment, part and init section).
//
// Query:    expires=<unix seconds>[&ip=1]&sig=<64 hex digits>
// Message:  "cascade-play\n<app>/<stream>\n<expires>\n<client ip, or nothing>"
//   cascade-play: fixed, so a play signature is never valid for anything
//     else signed with the same key (the VOD rate override's starts with
//     "cascade-vod-rate").
//   <app>/<stream>: the stream as the hub names it (decoded, no query).
//   <expires>: the decimal digits exactly as sent in the query.
//   <client ip>: with ip=1, the address the server sees (IPv4 dotted quad;
//     IPv6 in RFC 5952 text; an IPv4-mapped IPv6 peer counts as its IPv4
//     address); without ip=1 the message ends with the second "\n".
// sig = lowercase hex HMAC-SHA256(secret, message). A URL is valid while
// now <= expires. Example (shell):
//   printf 'cascade-play\nlive/demo\n1700000000\n' | openssl dgst -sha256 -hmac "$SECRET"
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "access/access_request.h"

namespace cascade::access {

std::string play_signature_message(std::string_view app, std::string_view stream,
                                   std::string_view expires, std::string_view client_ip);

// The query (without '?') that signs play of app/stream until
// `expires_unix_s`, bound to `client_ip` when it is not empty.
std::string sign_play_query(std::string_view secret, std::string_view app, std::string_view stream,
                            uint64_t expires_unix_s, std::string_view client_ip = {});

struct PlaySignatureCheck {
  AccessDecision decision;
  // Allowed with a valid signature: the token to carry into the URIs of a
  // playlist ("expires=..[&ip=1]&sig=.."), rebuilt from the checked values
  // only (digits and hex), so nothing else from the request reaches the
  // playlist text. Empty when no signature was given.
  std::string token;
};

// `secret` empty: play is open (allow, no token). Otherwise a request with
// a `sig` must verify; one without is denied when `required`, else allowed.
PlaySignatureCheck check_play_signature(std::string_view secret, bool required,
                                        const AccessRequest& request, int64_t now_unix_s);

}  // namespace cascade::access
