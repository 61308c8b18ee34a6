#include "protocols/rtmp/handshake.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <climits>
#include <random>
#include <utility>

#include "core/byte_writer.h"

namespace cascade::rtmp {
namespace {

// Nonzero version fields announce the digest handshake. The server value is
// nginx-rtmp's; ffmpeg only checks that the first byte is >= 3. The client
// value is Flash Player 9.0.124.2, as ffmpeg sends.
constexpr std::array<uint8_t, 4> kServerVersion = {0x0D, 0x0E, 0x0A, 0x0D};
constexpr std::array<uint8_t, 4> kClientVersion = {0x09, 0x00, 0x7C, 0x02};

constexpr size_t kVersionOffset = 4;  // RTMP 5.2.3: time (4) | zero (4) | random
constexpr size_t kRandomOffset = 8;
constexpr size_t kSignedSize = kHandshakePacketSize - kDigestSize;

// Copies from `in` into `packet` until it is complete; returns bytes taken.
size_t fill(HandshakePacket& packet, size_t& have, std::span<const uint8_t> in) {
  const size_t n = std::min(kHandshakePacketSize - have, in.size());
  std::copy_n(in.begin(), n, packet.begin() + static_cast<std::ptrdiff_t>(have));
  have += n;
  return n;
}

bool version_field_is_zero(PacketView packet) {
  return std::all_of(packet.begin() + kVersionOffset, packet.begin() + kRandomOffset,
                     [](uint8_t b) { return b == 0; });
}

// RTMP 5.2.2: 0-2 deprecated, 4-31 reserved, 32-255 not allowed "to allow
// distinguishing RTMP from text-based protocols". 6, 8 and 9 are the RTMPE
// variants of the Flash Media Server (plain DH+RC4, XTEA, Blowfish).
Error version_error(const char* packet_name, uint8_t version) {
  if (version == 6 || version == 8 || version == 9) {
    return make_error("encrypted RTMP (RTMPE) is not supported ({} version {:#04x})", packet_name,
                      version);
  }
  if (version == 0x16) {
    return make_error("unsupported RTMP version 0x16 (a TLS handshake? rtmps:// to a plain port)");
  }
  const char* hint = version < 3 ? "deprecated" : version < 32 ? "reserved" : "not an RTMP client?";
  return make_error("unsupported RTMP version {:#04x} ({})", version, hint);
}

// RTMP 5.2.4: the echo packet (C2/S2) = peer's time | time2 | peer's random.
// time2 is when we read the peer's packet, in our epoch: 0 (see handshake.h).
void write_echo(PacketView peer, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  out.insert(out.end(), peer.begin(), peer.end());
  store_u32be(out.data() + start + kVersionOffset, 0);
}

}  // namespace

void openssl_random_fill(std::span<uint8_t> bytes) {
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), INT_MAX);
    if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) break;
    bytes = bytes.subspan(n);
  }
  if (bytes.empty()) return;
  thread_local std::mt19937 fallback{std::random_device{}()};
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(fallback());
}

// ---------------------------------------------------------------- server

ServerHandshake::ServerHandshake() : ServerHandshake(openssl_random_fill) {}

ServerHandshake::ServerHandshake(RandomFill random_fill) : random_fill_(std::move(random_fill)) {}

Result<size_t> ServerHandshake::feed(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  size_t used = 0;
  while (used < in.size()) {
    const auto rest = in.subspan(used);
    switch (state_) {
      case State::kC0:
        if (rest[0] != kRtmpVersion) {
          error_ = version_error("C0", rest[0]);
          state_ = State::kFailed;
          return error_;
        }
        ++used;
        state_ = State::kC1;
        break;
      case State::kC1:
        used += fill(c1_, have_, rest);
        if (have_ == kHandshakePacketSize) {
          respond(out);
          have_ = 0;
          state_ = State::kC2;
        }
        break;
      case State::kC2: {
        // C2 should echo S1 (RTMP 5.2.4) but is not checked; see the class comment.
        const size_t n = std::min(kHandshakePacketSize - have_, rest.size());
        used += n;
        have_ += n;
        if (have_ == kHandshakePacketSize) state_ = State::kDone;
        break;
      }
      case State::kDone:
        return used;
      case State::kFailed:
        return error_;
    }
  }
  if (state_ == State::kFailed) return error_;
  return used;
}

void ServerHandshake::respond(std::vector<uint8_t>& out) {
  const PacketView c1(c1_);
  std::optional<DigestScheme> scheme;
  if (!version_field_is_zero(c1)) scheme = find_digest_scheme(c1, kClientDigestKey);
  digest_used_ = scheme.has_value();

  out.reserve(out.size() + 1 + 2 * kHandshakePacketSize);
  out.push_back(kRtmpVersion);  // S0

  // S1, RTMP 5.2.3: time (our epoch, 0) | zero or our version | random.
  HandshakePacket s1{};
  random_fill_(std::span(s1).subspan(kRandomOffset));
  if (scheme) {
    std::copy(kServerVersion.begin(), kServerVersion.end(), s1.begin() + kVersionOffset);
    write_digest(s1, *scheme, kServerDigestKey);
  }
  out.insert(out.end(), s1.begin(), s1.end());

  if (scheme) {
    // Digest S2: random | signature keyed by the C1 digest (handshake_digest.h).
    HandshakePacket s2;
    random_fill_(std::span(s2).first(kSignedSize));
    sign_response(s2, digest_at(c1, *scheme), kServerKey);
    out.insert(out.end(), s2.begin(), s2.end());
  } else {
    write_echo(c1, out);
  }
}

// ---------------------------------------------------------------- client

ClientHandshake::ClientHandshake(Mode mode) : ClientHandshake(mode, openssl_random_fill) {}

ClientHandshake::ClientHandshake(Mode mode, RandomFill random_fill, DigestScheme scheme)
    : mode_(mode), scheme_(scheme), random_fill_(std::move(random_fill)) {}

void ClientHandshake::start(std::vector<uint8_t>& out) {
  assert(state_ == State::kStart && "start() is called once");
  if (state_ != State::kStart) return;

  // C1, RTMP 5.2.3: time (our epoch, 0) | zero or our version | random.
  HandshakePacket c1{};
  random_fill_(std::span(c1).subspan(kRandomOffset));
  if (mode_ == Mode::kDigest) {
    std::copy(kClientVersion.begin(), kClientVersion.end(), c1.begin() + kVersionOffset);
    c1_digest_ = write_digest(c1, scheme_, kClientDigestKey);
  }
  out.reserve(out.size() + 1 + kHandshakePacketSize);
  out.push_back(kRtmpVersion);  // C0
  out.insert(out.end(), c1.begin(), c1.end());
  state_ = State::kS0;
}

Result<size_t> ClientHandshake::feed(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (state_ == State::kStart) return make_error("RTMP handshake: feed() before start()");
  size_t used = 0;
  Status status;
  while (used < in.size() && status.ok()) {
    const auto rest = in.subspan(used);
    switch (state_) {
      case State::kS0:
        if (rest[0] != kRtmpVersion) {
          status = version_error("S0", rest[0]);
          break;
        }
        ++used;
        state_ = State::kS1;
        break;
      case State::kS1:
        used += fill(packet_, have_, rest);
        if (have_ == kHandshakePacketSize) {
          status = on_s1(out);
          have_ = 0;
          state_ = State::kS2;
        }
        break;
      case State::kS2:
        used += fill(packet_, have_, rest);
        if (have_ == kHandshakePacketSize) {
          status = on_s2();
          state_ = State::kDone;
        }
        break;
      case State::kStart:
      case State::kDone:
        return used;
      case State::kFailed:
        return error_;
    }
  }
  if (!status.ok()) {
    error_ = status.error();
    state_ = State::kFailed;
  }
  if (state_ == State::kFailed) return error_;
  return used;
}

Status ClientHandshake::on_s1(std::vector<uint8_t>& out) {
  const PacketView s1(packet_);
  if (mode_ == Mode::kDigest && s1[kVersionOffset] != 0) {
    const std::optional<DigestScheme> scheme = find_digest_scheme(s1, kServerDigestKey);
    if (!scheme) {
      return make_error(
          "RTMP handshake: server S1 digest does not validate (not a genuine "
          "FMS-compatible server?)");
    }
    digest_used_ = true;
    // Digest C2: random | signature keyed by the S1 digest (handshake_digest.h).
    HandshakePacket c2;
    random_fill_(std::span(c2).first(kSignedSize));
    sign_response(c2, digest_at(s1, *scheme), kClientKey);
    out.insert(out.end(), c2.begin(), c2.end());
    return ok_status();
  }
  write_echo(s1, out);
  return ok_status();
}

Status ClientHandshake::on_s2() const {
  // In the simple handshake S2 should echo C1 (RTMP 5.2.4); like librtmp and
  // ffmpeg we do not insist on it.
  if (digest_used_ && !has_valid_response_signature(packet_, c1_digest_, kServerKey)) {
    return make_error(
        "RTMP handshake: server S2 signature does not validate against our C1 "
        "digest");
  }
  return ok_status();
}

}  // namespace cascade::rtmp
