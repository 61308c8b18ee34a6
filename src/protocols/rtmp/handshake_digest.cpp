#include "protocols/rtmp/handshake_digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cassert>

namespace cascade::rtmp {
namespace {

constexpr size_t kSchemeModulus = 728;  // 764 - 4 offset bytes - 32 digest bytes
constexpr size_t kSignedSize = kHandshakePacketSize - kDigestSize;

constexpr size_t offset_bytes_position(DigestScheme scheme) {
  return scheme == DigestScheme::kScheme0 ? 8 : 772;
}

bool equal_digests(const uint8_t* a, const uint8_t* b) {
  return CRYPTO_memcmp(a, b, kDigestSize) == 0;
}

}  // namespace

Digest hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> message) {
  Digest out{};
  unsigned int out_size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           out.data(), &out_size) == nullptr ||
      out_size != kDigestSize) {
    out.fill(0);
  }
  return out;
}

size_t digest_offset(PacketView packet, DigestScheme scheme) {
  const size_t base = offset_bytes_position(scheme);
  const size_t sum = size_t{packet[base]} + packet[base + 1] + packet[base + 2] + packet[base + 3];
  return base + 4 + sum % kSchemeModulus;
}

Digest digest_at(PacketView packet, DigestScheme scheme) {
  Digest out;
  std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(digest_offset(packet, scheme)),
              kDigestSize, out.begin());
  return out;
}

Digest packet_digest(PacketView packet, size_t offset, std::span<const uint8_t> key) {
  assert(offset + kDigestSize <= kHandshakePacketSize);
  std::array<uint8_t, kSignedSize> message;
  const auto it = packet.begin() + static_cast<std::ptrdiff_t>(offset);
  std::copy(packet.begin(), it, message.begin());
  std::copy(it + kDigestSize, packet.end(), message.begin() + static_cast<std::ptrdiff_t>(offset));
  return hmac_sha256(key, message);
}

bool has_valid_digest(PacketView packet, DigestScheme scheme, std::span<const uint8_t> key) {
  const size_t offset = digest_offset(packet, scheme);
  const Digest expected = packet_digest(packet, offset, key);
  return equal_digests(expected.data(), packet.data() + offset);
}

std::optional<DigestScheme> find_digest_scheme(PacketView packet, std::span<const uint8_t> key) {
  for (DigestScheme scheme : {DigestScheme::kScheme0, DigestScheme::kScheme1}) {
    if (has_valid_digest(packet, scheme, key)) return scheme;
  }
  return std::nullopt;
}

Digest write_digest(MutablePacketView packet, DigestScheme scheme, std::span<const uint8_t> key) {
  const size_t offset = digest_offset(packet, scheme);
  const Digest digest = packet_digest(packet, offset, key);
  std::copy(digest.begin(), digest.end(), packet.begin() + static_cast<std::ptrdiff_t>(offset));
  return digest;
}

Digest response_signature(PacketView packet, const Digest& peer_digest,
                          std::span<const uint8_t> full_key) {
  const Digest key = hmac_sha256(full_key, peer_digest);
  return hmac_sha256(key, packet.first<kSignedSize>());
}

void sign_response(MutablePacketView packet, const Digest& peer_digest,
                   std::span<const uint8_t> full_key) {
  const Digest signature = response_signature(packet, peer_digest, full_key);
  std::copy(signature.begin(), signature.end(), packet.begin() + kSignedSize);
}

bool has_valid_response_signature(PacketView packet, const Digest& peer_digest,
                                  std::span<const uint8_t> full_key) {
  const Digest expected = response_signature(packet, peer_digest, full_key);
  return equal_digests(expected.data(), packet.data() + kSignedSize);
}

}  // namespace cascade::rtmp
