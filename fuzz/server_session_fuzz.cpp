// Fuzzes the RTMP server session past the handshake: a fixed valid C0/C1/C2
// is fed first, then the input as the chunk stream, in pieces whose size the
// first input byte picks. Every request is accepted so the fuzzer reaches the
// publishing and playing states.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <variant>
#include <vector>

#include "protocols/rtmp/server_session.h"

using namespace cascade::rtmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SessionConfig config;
  config.limits.max_message_size = 1 << 16;
  config.limits.max_pending_bytes = 1 << 18;
  ServerSession session(config);
  std::vector<uint8_t> handshake(1 + 1536 * 2, 0);
  handshake[0] = 3;
  auto started = session.feed(handshake);
  if (!started || *started != handshake.size()) __builtin_trap();

  size_t piece = size ? 1 + data[0] % 64 : 1;
  std::vector<uint8_t> pending;
  for (size_t pos = 0; pos < size; pos += piece) {
    size_t n = std::min(piece, size - pos);
    pending.insert(pending.end(), data + pos, data + pos + n);
    auto consumed = session.feed(pending);
    if (!consumed) return 0;
    if (*consumed > pending.size()) __builtin_trap();
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(*consumed));
    for (auto& event : session.events()) {
      std::visit(
          [&session](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, ConnectRequest>) session.accept_connect();
            if constexpr (std::is_same_v<T, PublishRequest>) session.accept_publish(e.stream);
            if constexpr (std::is_same_v<T, PlayRequest>) session.accept_play(e.stream);
          },
          event);
    }
    session.events().clear();
    session.output().clear();
    if (session.close_reason()) return 0;
  }
  return 0;
}
