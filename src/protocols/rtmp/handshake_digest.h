// The RTMP "digest" (a.k.a. "complex", Flash Player 9+) handshake: HMAC-SHA256
// signatures hidden in C1/S1 and appended to C2/S2.
//
// Not part of the RTMP spec (Adobe, 2012): section 5.2 describes C1/S1 as
// time | zero | 1528 random bytes and C2/S2 as an echo. Flash Player 9+ and the
// Flash Media Server put a digest inside those "random" bytes instead, and
// clients derived from them (ffmpeg's native rtmp, librtmp/rtmpdump, Flash)
// verify the server's answer. The layout below is the one implemented by
// ffmpeg (libavformat/rtmpproto.c), librtmp (handshake.h) and nginx-rtmp:
//
//   C1/S1 (1536 bytes) = time (4) | version (4, nonzero) | 1528 bytes, in which
//   a 32-byte digest sits at an offset derived from 4 "offset bytes":
//     scheme 0: offset bytes 8..11,    digest at 12  + (their sum % 728)
//     scheme 1: offset bytes 772..775, digest at 776 + (their sum % 728)
//   (728 = 764-byte half - 4 offset bytes - 32 digest bytes. SRS names these
//   the other way round: its "schema0" is our scheme 1.)
//   digest = HMAC-SHA256(key, the 1536 bytes without the 32 digest bytes), key =
//     C1: the first 30 bytes of kClientKey ("Genuine Adobe Flash Player 001"),
//     S1: the first 36 bytes of kServerKey ("Genuine Adobe Flash Media Server 001").
//
//   C2/S2 (1536 bytes) = 1504 bytes (random) | 32-byte signature, where
//   signature = HMAC-SHA256(HMAC-SHA256(full key, peer's C1/S1 digest), first 1504 bytes)
//     S2: full 68-byte kServerKey, C1's digest;  C2: full 62-byte kClientKey, S1's digest.
//
// Observed: ffmpeg 5.1 (native rtmp) and rtmpdump 2.4 (with -w/-x; plain
// rtmpdump sends the simple handshake) sign C1 with scheme 0; ffmpeg uses
// scheme 1 for RTMPE, as does librtmp's FP10 code path. Both clients accept
// either scheme in S1.
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace cascade::rtmp {

inline constexpr size_t kHandshakePacketSize = 1536;  // RTMP 5.2.3: C1/S1/C2/S2 size
inline constexpr size_t kDigestSize = 32;             // SHA-256

using HandshakePacket = std::array<uint8_t, kHandshakePacketSize>;
using PacketView = std::span<const uint8_t, kHandshakePacketSize>;
using MutablePacketView = std::span<uint8_t, kHandshakePacketSize>;
using Digest = std::array<uint8_t, kDigestSize>;

enum class DigestScheme : uint8_t {
  kScheme0,  // offset bytes 8..11
  kScheme1,  // offset bytes 772..775
};

// "Genuine Adobe Flash Player 001" followed by 32 constant bytes.
inline constexpr std::array<uint8_t, 62> kClientKey = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',  'F',  'l',
    'a',  's',  'h',  ' ',  'P',  'l',  'a',  'y',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE,
    0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC,
    0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
inline constexpr size_t kClientKeyOpenPartSize = 30;

// "Genuine Adobe Flash Media Server 001" followed by the same 32 bytes.
inline constexpr std::array<uint8_t, 68> kServerKey = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',
    'F',  'l',  'a',  's',  'h',  ' ',  'M',  'e',  'd',  'i',  'a',  ' ',  'S',  'e',
    'r',  'v',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68,
    0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D,
    0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
inline constexpr size_t kServerKeyOpenPartSize = 36;

// Keys for the C1 and S1 digests (the "open parts" of the keys above).
inline constexpr std::span<const uint8_t> kClientDigestKey{kClientKey.data(),
                                                           kClientKeyOpenPartSize};
inline constexpr std::span<const uint8_t> kServerDigestKey{kServerKey.data(),
                                                           kServerKeyOpenPartSize};

// HMAC-SHA256 via OpenSSL. Returns all zeros if OpenSSL fails (allocation
// failure); a zero digest never validates, so callers degrade, not crash.
Digest hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> message);

// Position of the 32-byte digest in a C1/S1 under `scheme`; always in bounds
// (scheme 0: 12..739, scheme 1: 776..1503).
size_t digest_offset(PacketView packet, DigestScheme scheme);

// The 32 bytes at digest_offset(packet, scheme).
Digest digest_at(PacketView packet, DigestScheme scheme);

// HMAC-SHA256(key, packet with the 32 bytes at `offset` removed).
// Precondition: offset + kDigestSize <= kHandshakePacketSize.
Digest packet_digest(PacketView packet, size_t offset, std::span<const uint8_t> key);

// True when the digest at digest_offset(packet, scheme) is correct for `key`.
bool has_valid_digest(PacketView packet, DigestScheme scheme, std::span<const uint8_t> key);

// The scheme under which `packet` carries a valid digest: scheme 0 is tried
// first, then scheme 1. nullopt when neither validates.
std::optional<DigestScheme> find_digest_scheme(PacketView packet, std::span<const uint8_t> key);

// Computes and stores the digest of `packet` under `scheme`; returns it.
// Contract: the rest of the packet (including the offset bytes) is final.
Digest write_digest(MutablePacketView packet, DigestScheme scheme, std::span<const uint8_t> key);

// C2/S2 signature: HMAC-SHA256(HMAC-SHA256(full_key, peer_digest), packet[0..1504)).
Digest response_signature(PacketView packet, const Digest& peer_digest,
                          std::span<const uint8_t> full_key);

// Stores response_signature() in the last 32 bytes of `packet`.
void sign_response(MutablePacketView packet, const Digest& peer_digest,
                   std::span<const uint8_t> full_key);

// True when the last 32 bytes of `packet` equal response_signature().
bool has_valid_response_signature(PacketView packet, const Digest& peer_digest,
                                  std::span<const uint8_t> full_key);

}  // namespace cascade::rtmp
