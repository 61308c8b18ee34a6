// The RTMP handshake (RTMP spec, Adobe 2012, section 5.2) as sans-I/O state
// machines, including the Flash Player 9 digest handshake (handshake_digest.h)
// that ffmpeg, librtmp/rtmpdump and Flash clients verify.
//
// RTMP 5.2: C0/S0 = 1 version byte (3); C1/S1 = 1536 bytes (time | zero |
// random); C2/S2 = 1536 bytes echoing the peer's C1/S1 (time | time2 | random
// echo). Order: client sends C0+C1, server sends S0+S1+S2 once C1 is in,
// client sends C2 once S1 is in; chunk stream data follows C2/S2 (5.2.1).
//
// Contracts common to both classes:
// - Not thread-safe; one instance per connection, owned by the session.
// - feed() takes whatever bytes have arrived (any split, down to one byte at a
//   time), appends bytes to send to `out` (never clears it), and returns how
//   many bytes of `in` it consumed. Once done(), it consumes nothing more: the
//   bytes after C2/S2 belong to the chunk stream and stay with the caller.
// - An Error means the peer sent bad bytes; it is sticky (every later feed()
//   returns it) and the session should be closed with its message as reason.
//   Anything appended to `out` by a failing call must not be sent.
// - Holds ~1.5 KB of handshake state; destroy it once done().
// - Our time fields are 0: RTMP 5.2.3 allows an epoch of 0, and C1/S1 is read
//   before our epoch begins, so time2 in our C2/S2 is 0 as well.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/result.h"
#include "protocols/rtmp/handshake_digest.h"

namespace cascade::rtmp {

inline constexpr uint8_t kRtmpVersion = 3;  // RTMP 5.2.2: the only version we speak

// Fills the span with random bytes. Handshake randomness needs no secrecy (the
// digest keys are public); injectable so tests get deterministic bytes.
using RandomFill = std::function<void(std::span<uint8_t>)>;

// RAND_bytes from OpenSSL, falling back to a std::random_device-seeded
// generator if OpenSSL's generator fails. Thread-safe.
void openssl_random_fill(std::span<uint8_t> bytes);

// Server side. Answers a C1 carrying a valid Flash Player digest (scheme 0 or
// 1) with the digest handshake in the same scheme, and anything else with the
// simple handshake of RTMP 5.2. C2 is consumed but not checked: many clients
// send an arbitrary C2.
class ServerHandshake {
 public:
  ServerHandshake();  // random bytes from openssl_random_fill
  explicit ServerHandshake(RandomFill random_fill);

  // Consumes C0, C1 and C2. Writes S0+S1+S2 (3073 bytes) to `out` in the call
  // that completes C1. Fails if C0 is not version 3 (RTMPE, HTTP, TLS, ...).
  Result<size_t> feed(std::span<const uint8_t> in, std::vector<uint8_t>& out);

  // C2 has been consumed completely.
  bool done() const { return state_ == State::kDone; }

  // The client sent a valid FP9 digest in C1 and we answered with the digest
  // handshake. Meaningful once S0+S1+S2 has been written.
  bool digest_used() const { return digest_used_; }

 private:
  enum class State : uint8_t { kC0, kC1, kC2, kDone, kFailed };

  void respond(std::vector<uint8_t>& out);

  RandomFill random_fill_;
  State state_ = State::kC0;
  size_t have_ = 0;  // bytes received of the current 1536-byte packet
  bool digest_used_ = false;
  HandshakePacket c1_{};
  Error error_;  // set in kFailed
};

// Client side: our load generator, tests and edge relays.
class ClientHandshake {
 public:
  enum class Mode {
    kSimple,  // RTMP 5.2: zero version, random C1, C2 echoes S1
    kDigest,  // FP9 digest in C1; a server that answers with a nonzero
              // version must prove its S1 digest and S2 signature
  };

  explicit ClientHandshake(Mode mode = Mode::kDigest);
  // For tests: deterministic random bytes and a choice of C1 digest scheme
  // (ffmpeg uses scheme 0, librtmp scheme 1).
  ClientHandshake(Mode mode, RandomFill random_fill, DigestScheme scheme = DigestScheme::kScheme0);

  // Writes C0+C1. Precondition: called once, before feed().
  void start(std::vector<uint8_t>& out);

  // Consumes S0, S1 and S2; writes C2 as soon as S1 is complete (RTMP 5.2.1
  // allows it, and a server may wait for C2 before sending S2). In digest mode
  // fails when a server claiming the digest handshake (S1's first version
  // byte, offset 4, nonzero: librtmp's rule) sends an S1 digest or S2
  // signature that does not validate. A zero-version S1 is accepted as the
  // simple handshake.
  Result<size_t> feed(std::span<const uint8_t> in, std::vector<uint8_t>& out);

  // S2 has been consumed (and validated, in digest mode).
  bool done() const { return state_ == State::kDone; }

  // The server answered with a digest handshake that validated.
  bool digest_used() const { return digest_used_; }

 private:
  enum class State : uint8_t { kStart, kS0, kS1, kS2, kDone, kFailed };

  Status on_s1(std::vector<uint8_t>& out);
  Status on_s2() const;

  Mode mode_;
  DigestScheme scheme_;
  RandomFill random_fill_;
  State state_ = State::kStart;
  size_t have_ = 0;  // bytes received of the current 1536-byte packet
  bool digest_used_ = false;
  Digest c1_digest_{};        // our C1 digest; keys the S2 signature
  HandshakePacket packet_{};  // S1, then S2, as it arrives
  Error error_;               // set in kFailed
};

}  // namespace cascade::rtmp
