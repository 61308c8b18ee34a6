// libFuzzer target for the RTMP handshake state machines
// (src/protocols/rtmp/handshake.h). The input is whatever a peer might send.
//
// Checked properties, beyond "no crash, no sanitizer report":
// - feed() is split-invariant: feeding the input whole and in pieces of
//   varying sizes gives the same result, consumed count and output.
// - Never consumes more than C0+C1+C2 (S0+S1+S2); consumes a whole piece
//   unless done(); the server writes nothing or exactly S0+S1+S2, the client
//   nothing or exactly C2.
// The same bytes also drive a ClientHandshake as if they came from a server.
//
// Seeds (fuzz/corpus/handshake): C0+C1+C2 captured from ffmpeg and rtmpdump,
// our own client's, a server answer to this target's client, and non-RTMP
// openings (HTTP, TLS, RTMPE).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "protocols/rtmp/handshake.h"

namespace {

using cascade::rtmp::ClientHandshake;
using cascade::rtmp::DigestScheme;
using cascade::rtmp::kHandshakePacketSize;
using cascade::rtmp::RandomFill;
using cascade::rtmp::ServerHandshake;

constexpr size_t kAllPackets = 1 + 2 * kHandshakePacketSize;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

RandomFill counter_fill() {
  return [next = uint8_t{0}](std::span<uint8_t> bytes) mutable {
    for (uint8_t& b : bytes) b = next++;
  };
}

struct Outcome {
  bool ok = true;
  std::string error;
  size_t consumed = 0;
  std::vector<uint8_t> out;
};

// Feeds `in` in pieces whose sizes cycle through kSteps from `first_step`
// (kSteps has a piece larger than any input: "whole").
template <typename Handshake>
Outcome feed_in_pieces(Handshake& side, std::span<const uint8_t> in, size_t first_step) {
  static constexpr size_t kSteps[] = {1, 2, 3, 7, 64, 511, 1536, 1537, size_t{1} << 30};
  Outcome o;
  for (size_t k = first_step; o.consumed < in.size(); ++k) {
    const size_t n = std::min(kSteps[k % std::size(kSteps)], in.size() - o.consumed);
    auto used = side.feed(in.subspan(o.consumed, n), o.out);
    if (!used.ok()) {
      o.ok = false;
      o.error = used.error().message;
      FUZZ_CHECK(!o.error.empty());
      FUZZ_CHECK(!side.done());
      FUZZ_CHECK(!side.feed(in.subspan(o.consumed, n), o.out).ok());  // sticky
      return o;
    }
    FUZZ_CHECK(*used <= n);
    o.consumed += *used;
    if (*used < n) {
      FUZZ_CHECK(side.done());
      break;
    }
  }
  FUZZ_CHECK(o.consumed <= kAllPackets);
  FUZZ_CHECK(side.done() == (o.consumed == kAllPackets));
  if (side.done()) {
    std::vector<uint8_t> more;
    auto again = side.feed(in.subspan(o.consumed), more);
    FUZZ_CHECK(again.ok() && *again == 0 && more.empty());
  }
  return o;
}

void check_same(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.ok == b.ok);
  FUZZ_CHECK(a.error == b.error);
  if (a.ok) {
    FUZZ_CHECK(a.consumed == b.consumed);
    FUZZ_CHECK(a.out == b.out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  const size_t first_step = size % 7;

  ServerHandshake whole_server(counter_fill()), split_server(counter_fill());
  const Outcome server_whole = feed_in_pieces(whole_server, in, 8);  // one piece
  const Outcome server_split = feed_in_pieces(split_server, in, first_step);
  check_same(server_whole, server_split);
  if (server_whole.ok) {
    const size_t out_size = server_whole.out.size();
    FUZZ_CHECK(out_size == 0 || out_size == kAllPackets);
    FUZZ_CHECK((out_size == kAllPackets) == (server_whole.consumed >= 1 + kHandshakePacketSize));
  }

  const DigestScheme scheme = size % 2 == 0 ? DigestScheme::kScheme0 : DigestScheme::kScheme1;
  ClientHandshake whole_client(ClientHandshake::Mode::kDigest, counter_fill(), scheme),
      split_client(ClientHandshake::Mode::kDigest, counter_fill(), scheme);
  std::vector<uint8_t> c0c1;
  whole_client.start(c0c1);
  split_client.start(c0c1);
  const Outcome client_whole = feed_in_pieces(whole_client, in, 8);
  const Outcome client_split = feed_in_pieces(split_client, in, first_step);
  check_same(client_whole, client_split);
  if (client_whole.ok) {
    FUZZ_CHECK(client_whole.out.empty() || client_whole.out.size() == kHandshakePacketSize);
  }
  return 0;
}
