// Socket options for connections that stream live media to a viewer.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

namespace cascade::net {

// Unsent bytes the kernel may hold for one viewer socket.
inline constexpr int kViewerUnsentBytes = 64 * 1024;

// Bounds the bytes the kernel keeps queued but unsent on a viewer's socket
// (TCP_NOTSENT_LOWAT, Linux 3.12+): a write waits once that many are queued.
// Without it, send-buffer autotuning lets a viewer that stopped reading soak
// up to tcp_wmem's maximum (4 MiB by default, tens of seconds of a typical
// stream) before its writes stall, so the hub's lag_skip_ms / lag_close_ms
// (ARCHITECTURE.md, backpressure) would act that much later than configured.
// Bytes in flight are not limited: throughput on long fat links is unchanged.
inline void limit_unsent_bytes(boost::asio::ip::tcp::socket& socket,
                               int bytes = kViewerUnsentBytes) {
#ifdef TCP_NOTSENT_LOWAT
  int value = bytes;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &value, sizeof value);
#else
  (void)socket;
  (void)bytes;
#endif
}

}  // namespace cascade::net
