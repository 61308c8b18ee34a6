#include "core/url_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cassert>
#include <cstdint>

namespace cascade {
namespace {

using Digest = std::array<uint8_t, 32>;  // SHA-256

Digest hmac_sha256(std::string_view key, std::string_view message) {
  Digest digest{};
  unsigned int length = 0;
  const unsigned char* done = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                   reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size(), digest.data(), &length);
  // HMAC fails only without memory or SHA-256; neither happens in a process
  // that got this far, and a zero digest would simply never verify.
  assert(done != nullptr && length == digest.size());
  (void)done;
  return digest;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string sign_message(std::string_view key, std::string_view message) {
  assert(!key.empty());
  static constexpr char kDigits[] = "0123456789abcdef";
  const Digest digest = hmac_sha256(key, message);
  std::string out;
  out.reserve(kUrlSignatureHexSize);
  for (uint8_t byte : digest) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xF]);
  }
  return out;
}

bool verify_message(std::string_view key, std::string_view message,
                    std::string_view signature_hex) {
  if (key.empty() || signature_hex.size() != kUrlSignatureHexSize) return false;
  Digest given{};
  for (size_t i = 0; i < given.size(); ++i) {
    const int hi = hex_value(signature_hex[2 * i]);
    const int lo = hex_value(signature_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  const Digest expected = hmac_sha256(key, message);
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace cascade
