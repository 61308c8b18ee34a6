// Signed URLs: an HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256) of a
// canonical message under a shared secret, written as 64 lowercase hex
// digits. The caller decides what the canonical message holds (a URL path,
// parameters, an expiry); this file only signs and verifies it. Used by the
// VOD throttle override (vod/throttle_override.h); signed live play URLs are
// meant to reuse it.
//
// Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>

namespace cascade {

inline constexpr size_t kUrlSignatureHexSize = 64;

// The signature of `message` under `key`, 64 lowercase hex digits.
// Precondition: `key` is not empty.
std::string sign_message(std::string_view key, std::string_view message);

// True when `signature_hex` (hex digits, either case) is the signature of
// `message` under `key`. The comparison takes the same time wherever the
// digits differ (CRYPTO_memcmp), so a forger learns nothing from timing. An
// empty key, or a signature of the wrong length or with non-hex digits,
// never verifies.
bool verify_message(std::string_view key, std::string_view message, std::string_view signature_hex);

}  // namespace cascade
