#include "protocols/rtmp/handshake.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/byte_writer.h"

namespace cascade::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr size_t kPacket = kHandshakePacketSize;
constexpr size_t kS0S1S2 = 1 + 2 * kPacket;

// Deterministic RandomFill: start, start+1, ... (mod 256), continuing across calls.
RandomFill counter_fill(uint8_t start) {
  return [next = start](std::span<uint8_t> bytes) mutable {
    for (uint8_t& b : bytes) b = next++;
  };
}

PacketView packet_at(const Bytes& bytes, size_t offset) {
  return PacketView(bytes.data() + offset, kPacket);
}

// Independent reference of the digest handshake, written after ffmpeg's
// rtmp_validate_digest() / librtmp's VerifyDigest() rather than our helpers.
Digest reference_hmac(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &size);
  return out;
}
size_t reference_digest_pos(PacketView p, size_t off) {
  return (size_t{p[off]} + p[off + 1] + p[off + 2] + p[off + 3]) % 728 + off + 4;
}
bool reference_digest_valid(PacketView p, size_t off, std::span<const uint8_t> key) {
  const size_t pos = reference_digest_pos(p, off);
  Bytes message(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(pos));
  message.insert(message.end(), p.begin() + static_cast<std::ptrdiff_t>(pos + 32), p.end());
  const Digest d = reference_hmac(key, message);
  return std::memcmp(d.data(), p.data() + pos, 32) == 0;
}
bool reference_response_valid(PacketView response, PacketView peer, size_t peer_off,
                              std::span<const uint8_t> full_key) {
  const Digest key =
      reference_hmac(full_key, peer.subspan(reference_digest_pos(peer, peer_off), 32));
  const Digest sig = reference_hmac(key, response.first(kPacket - 32));
  return std::memcmp(sig.data(), response.data() + kPacket - 32, 32) == 0;
}
size_t offset_bytes_of(DigestScheme scheme) {
  return scheme == DigestScheme::kScheme0 ? 8 : 772;
}
DigestScheme other(DigestScheme s) {
  return s == DigestScheme::kScheme0 ? DigestScheme::kScheme1 : DigestScheme::kScheme0;
}

// A simple-handshake C0+C1 with a recognizable body.
Bytes simple_c0c1(uint32_t time, uint32_t version) {
  Bytes out = {3};
  ByteWriter w(out);
  w.u32be(time);
  w.u32be(version);
  for (size_t i = 8; i < kPacket; ++i) w.u8(static_cast<uint8_t>(i % 251));
  return out;
}

struct Exchange {
  Bytes c0c1, s0s1s2, c2;
  bool server_digest = false, client_digest = false;
};

// Runs a whole handshake, feeding each side `step` bytes at a time (0 = all at once).
Exchange run(ClientHandshake client, ServerHandshake server, size_t step) {
  Exchange x;
  client.start(x.c0c1);
  auto pump = [step](auto& side, const Bytes& in, Bytes& out) {
    size_t pos = 0;
    while (pos < in.size() && !side.done()) {
      const size_t n = step == 0 ? in.size() - pos : std::min(step, in.size() - pos);
      auto used = side.feed(std::span(in).subspan(pos, n), out);
      EXPECT_TRUE(used.ok()) << used.error().message;
      if (!used.ok()) return;
      EXPECT_EQ(*used, n);
      pos += n;
    }
    EXPECT_EQ(pos, in.size());
  };
  Bytes to_server = x.c0c1;
  pump(server, to_server, x.s0s1s2);
  pump(client, x.s0s1s2, x.c2);
  pump(server, x.c2, x.s0s1s2);
  EXPECT_EQ(x.s0s1s2.size(), kS0S1S2);  // C2 makes the server write nothing
  EXPECT_TRUE(client.done());
  EXPECT_TRUE(server.done());
  x.server_digest = server.digest_used();
  x.client_digest = client.digest_used();
  return x;
}

TEST(HandshakeDigest, HmacSha256MatchesRfc4231Case2) {
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  const Digest d = hmac_sha256({reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                               {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  const Digest expected = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                           0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                           0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_EQ(d, expected);
}

TEST(HandshakeDigest, DigestOffsetPerScheme) {
  struct Case {
    uint8_t offset_byte;
    DigestScheme scheme;
    size_t expected;
  };
  const Case cases[] = {
      {0x00, DigestScheme::kScheme0, 12},
      {0x00, DigestScheme::kScheme1, 776},
      {0x01, DigestScheme::kScheme0, 16},
      {0xFF, DigestScheme::kScheme0, 12 + 1020 % 728},
      {0xFF, DigestScheme::kScheme1, 776 + 1020 % 728},
  };
  for (const Case& c : cases) {
    HandshakePacket p{};
    std::fill_n(p.begin() + static_cast<std::ptrdiff_t>(offset_bytes_of(c.scheme)), 4,
                c.offset_byte);
    EXPECT_EQ(digest_offset(p, c.scheme), c.expected) << int(c.offset_byte);
  }
}

TEST(ServerHandshake, RejectsBadC0) {
  struct Case {
    uint8_t c0;
    const char* message;
  };
  const Case cases[] = {
      {'G', "unsupported RTMP version 0x47 (not an RTMP client?)"},
      {0x06, "encrypted RTMP (RTMPE) is not supported (C0 version 0x06)"},
      {0x08, "encrypted RTMP (RTMPE) is not supported (C0 version 0x08)"},
      {0x16, "unsupported RTMP version 0x16 (a TLS handshake? rtmps:// to a plain port)"},
      {0x00, "unsupported RTMP version 0x00 (deprecated)"},
      {0x04, "unsupported RTMP version 0x04 (reserved)"},
  };
  for (const Case& c : cases) {
    ServerHandshake server(counter_fill(0));
    Bytes in = simple_c0c1(0, 0), out;
    in[0] = c.c0;
    auto r = server.feed(in, out);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, c.message);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(server.done());
    auto again = server.feed(std::span(in).subspan(1), out);  // sticky
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message, c.message);
  }
}

TEST(ServerHandshake, SimpleHandshakeLayout) {
  ServerHandshake server(counter_fill(0));
  const Bytes c0c1 = simple_c0c1(0x01020304, 0);
  Bytes out;
  auto used = server.feed(c0c1, out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, c0c1.size());
  ASSERT_EQ(out.size(), kS0S1S2);
  EXPECT_FALSE(server.digest_used());
  // Golden start: S0 = 3; S1 = time 0 | zero | random (the counter from 0).
  const Bytes golden = {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x02, 0x03};
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 13), golden);
  for (size_t i = 8; i < kPacket; ++i) ASSERT_EQ(out[1 + i], uint8_t(i - 8)) << i;
  // S2 (RTMP 5.2.4) = C1 time | time2 = 0 | C1 random: here exactly C1.
  EXPECT_EQ(Bytes(out.begin() + 1 + kPacket, out.end()), Bytes(c0c1.begin() + 1, c0c1.end()));
  EXPECT_FALSE(server.done());
  const Bytes c2(out.begin() + 1, out.begin() + 1 + kPacket);  // the echo a client sends
  used = server.feed(c2, out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, kPacket);
  EXPECT_TRUE(server.done());
  EXPECT_EQ(out.size(), kS0S1S2);
}

TEST(ServerHandshake, FallsBackToSimpleWhenDigestDoesNotValidate) {
  ServerHandshake server(counter_fill(0));
  const Bytes c0c1 = simple_c0c1(7, 0x0A000C02);  // FP-style version, no digest
  Bytes out;
  ASSERT_TRUE(server.feed(c0c1, out).ok());
  ASSERT_EQ(out.size(), kS0S1S2);
  EXPECT_FALSE(server.digest_used());
  EXPECT_EQ(Bytes(out.begin() + 5, out.begin() + 9), Bytes(4, 0));  // S1 zero field
  Bytes expected_s2(c0c1.begin() + 1, c0c1.end());
  std::fill_n(expected_s2.begin() + 4, 4, 0);  // time2
  EXPECT_EQ(Bytes(out.begin() + 1 + kPacket, out.end()), expected_s2);
}

TEST(ServerHandshake, AnswersDigestInClientScheme) {
  struct Case {
    DigestScheme scheme;
    size_t s1_digest_offset;  // from the server's counter random: see comments
  };
  const Case cases[] = {
      {DigestScheme::kScheme0, 18},    // S1[8..11] = 0,1,2,3: 12 + 6
      {DigestScheme::kScheme1, 1062},  // S1[772..775] = 252..255: 776 + 1014 % 728
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.scheme));
    const Exchange x =
        run(ClientHandshake(ClientHandshake::Mode::kDigest, counter_fill(0x40), c.scheme),
            ServerHandshake(counter_fill(0)), 0);
    EXPECT_TRUE(x.server_digest);
    EXPECT_TRUE(x.client_digest);
    const PacketView c1 = packet_at(x.c0c1, 1), s1 = packet_at(x.s0s1s2, 1),
                     s2 = packet_at(x.s0s1s2, 1 + kPacket), c2 = packet_at(x.c2, 0);
    EXPECT_EQ(Bytes(c1.begin() + 4, c1.begin() + 8), (Bytes{0x09, 0x00, 0x7C, 0x02}));
    EXPECT_TRUE(reference_digest_valid(c1, offset_bytes_of(c.scheme), kClientDigestKey));
    EXPECT_EQ(Bytes(s1.begin() + 4, s1.begin() + 8), (Bytes{0x0D, 0x0E, 0x0A, 0x0D}));
    EXPECT_EQ(reference_digest_pos(s1, offset_bytes_of(c.scheme)), c.s1_digest_offset);
    EXPECT_TRUE(reference_digest_valid(s1, offset_bytes_of(c.scheme), kServerDigestKey));
    EXPECT_FALSE(reference_digest_valid(s1, offset_bytes_of(other(c.scheme)), kServerDigestKey));
    EXPECT_TRUE(reference_response_valid(s2, c1, offset_bytes_of(c.scheme), kServerKey));
    EXPECT_TRUE(reference_response_valid(c2, s1, offset_bytes_of(c.scheme), kClientKey));
  }
}

// Golden bytes from real clients: C0+C1+C2 that ffmpeg 5.1 (native rtmp) and
// rtmpdump 2.4 sent to a ServerHandshake(counter_fill(0)) during interop runs.
// Replaying them reproduces the same S1/S2, so each client's C2 proves what it
// computed from our answer: a digest C2 is signed with the S1 digest, and
// librtmp's simple C2 echoes S1 (with its own time2).
TEST(ServerHandshake, ReplaysCapturedClients) {
#ifndef CASCADE_SOURCE_DIR
  GTEST_SKIP() << "CASCADE_SOURCE_DIR not defined";
#else
  struct Case {
    const char* file;
    bool digest;
  };
  const Case cases[] = {
      {"ffmpeg_digest_c0c1c2.bin", true},     // C1 version 9.0.124.2, scheme 0
      {"rtmpdump_digest_c0c1c2.bin", true},   // rtmpdump -w/-x: 10.0.45.2, scheme 0
      {"rtmpdump_simple_c0c1c2.bin", false},  // plain rtmpdump: zero version
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    std::ifstream f(std::string(CASCADE_SOURCE_DIR) + "/fuzz/corpus/handshake/" + c.file,
                    std::ios::binary);
    const Bytes in{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    ASSERT_EQ(in.size(), 1 + 2 * kPacket);
    ServerHandshake server(counter_fill(0));
    Bytes out;
    auto used = server.feed(in, out);
    ASSERT_TRUE(used.ok()) << used.error().message;
    EXPECT_EQ(*used, in.size());
    EXPECT_TRUE(server.done());
    EXPECT_EQ(server.digest_used(), c.digest);
    const PacketView c1 = packet_at(in, 1), c2 = packet_at(in, 1 + kPacket), s1 = packet_at(out, 1);
    if (c.digest) {
      EXPECT_TRUE(reference_digest_valid(c1, 8, kClientDigestKey));
      EXPECT_TRUE(reference_response_valid(c2, s1, 8, kClientKey));
    } else {
      EXPECT_TRUE(std::equal(s1.begin(), s1.begin() + 4, c2.begin()));
      EXPECT_TRUE(std::equal(s1.begin() + 8, s1.end(), c2.begin() + 8));
    }
  }
#endif
}

TEST(ClientHandshake, RejectsCorruptedServerDigest) {
  struct Case {
    const char* name;
    size_t flip;  // index into S0+S1+S2
    const char* error;
  };
  const Case cases[] = {
      {"S1 digest byte", 1 + 18, "S1 digest does not validate"},
      {"S1 offset byte", 1 + 8, "S1 digest does not validate"},
      {"S1 body byte", 1 + 1000, "S1 digest does not validate"},
      {"S2 body byte", 1 + kPacket + 5, "S2 signature does not validate"},
      {"S2 signature byte", kS0S1S2 - 1, "S2 signature does not validate"},
  };
  ClientHandshake probe(ClientHandshake::Mode::kDigest, counter_fill(0x40));
  Bytes c0c1, s0s1s2;
  probe.start(c0c1);
  ServerHandshake server(counter_fill(0));
  ASSERT_TRUE(server.feed(c0c1, s0s1s2).ok());
  ASSERT_TRUE(server.digest_used());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClientHandshake client(ClientHandshake::Mode::kDigest, counter_fill(0x40));
    Bytes ignored, c2;
    client.start(ignored);
    Bytes bad = s0s1s2;
    bad[c.flip] ^= 0x01;
    auto r = client.feed(bad, c2);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    EXPECT_FALSE(client.done());
    EXPECT_FALSE(client.feed(bad, c2).ok());  // sticky
  }
}

TEST(ClientHandshake, AcceptsSimpleAnswerInDigestMode) {
  ClientHandshake client(ClientHandshake::Mode::kDigest, counter_fill(0x40));
  Bytes c0c1, s0s1s2, c2;
  client.start(c0c1);
  c0c1[1 + 100] ^= 0xFF;  // break our digest: the server falls back to the simple handshake
  ServerHandshake server(counter_fill(0));
  ASSERT_TRUE(server.feed(c0c1, s0s1s2).ok());
  EXPECT_FALSE(server.digest_used());
  auto r = client.feed(s0s1s2, c2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(client.done());
  EXPECT_FALSE(client.digest_used());
  Bytes expected_c2(s0s1s2.begin() + 1, s0s1s2.begin() + 1 + kPacket);  // S1 echo, time2 = 0
  EXPECT_EQ(c2, expected_c2);
}

TEST(ClientHandshake, RejectsBadS0AndFeedBeforeStart) {
  ClientHandshake unstarted(ClientHandshake::Mode::kSimple, counter_fill(0));
  Bytes out;
  EXPECT_FALSE(unstarted.feed(Bytes{3}, out).ok());

  ClientHandshake client(ClientHandshake::Mode::kSimple, counter_fill(0));
  client.start(out);
  auto r = client.feed(Bytes{6, 0, 0}, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "encrypted RTMP (RTMPE) is not supported (S0 version 0x06)");
}

TEST(Handshake, ByteAtATimeMatchesWholeBuffer) {
  struct Case {
    const char* name;
    ClientHandshake::Mode mode;
    DigestScheme scheme;
  };
  const Case cases[] = {
      {"simple", ClientHandshake::Mode::kSimple, DigestScheme::kScheme0},
      {"digest scheme 0", ClientHandshake::Mode::kDigest, DigestScheme::kScheme0},
      {"digest scheme 1", ClientHandshake::Mode::kDigest, DigestScheme::kScheme1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto exchange = [&c](size_t step) {
      return run(ClientHandshake(c.mode, counter_fill(9), c.scheme),
                 ServerHandshake(counter_fill(200)), step);
    };
    const Exchange whole = exchange(0), bytewise = exchange(1), odd = exchange(7);
    for (const Exchange* x : {&bytewise, &odd}) {
      EXPECT_EQ(x->c0c1, whole.c0c1);
      EXPECT_EQ(x->s0s1s2, whole.s0s1s2);
      EXPECT_EQ(x->c2, whole.c2);
      EXPECT_EQ(x->server_digest, c.mode == ClientHandshake::Mode::kDigest);
      EXPECT_EQ(x->client_digest, x->server_digest);
    }
  }
}

TEST(Handshake, BytesAfterC2AndS2AreNotConsumed) {
  const Bytes chunk = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x14};  // a connect header
  ClientHandshake client(ClientHandshake::Mode::kDigest, counter_fill(1));
  ServerHandshake server(counter_fill(2));
  Bytes c0c1, s0s1s2, c2;
  client.start(c0c1);

  // Server: C0+C1 and half of C2 in one call, then the rest of C2 plus chunk bytes.
  ASSERT_TRUE(server.feed(c0c1, s0s1s2).ok());
  Bytes s_tail = s0s1s2;
  s_tail.insert(s_tail.end(), chunk.begin(), chunk.end());
  auto used = client.feed(s_tail, c2);
  ASSERT_TRUE(used.ok()) << used.error().message;
  EXPECT_EQ(*used, kS0S1S2);
  EXPECT_TRUE(client.done());
  used = client.feed(chunk, c2);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);

  Bytes rest(c2.begin() + 700, c2.end());
  rest.insert(rest.end(), chunk.begin(), chunk.end());
  Bytes none;
  used = server.feed(std::span(c2).first(700), none);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 700u);
  used = server.feed(rest, none);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, kPacket - 700);
  EXPECT_TRUE(server.done());
  used = server.feed(chunk, none);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace cascade::rtmp
