// Sends a byte range of a file (a disk file or a memory file) to a TCP
// socket with sendfile(2): the kernel moves page references, no copy
// through user memory. Waits for the socket to drain between calls; a peer
// that accepts nothing for `stall_timeout_ms` ends the send.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "core/result.h"
#include "net/transport.h"

namespace cascade::net {

// Runs on the socket's worker, which it never blocks on the socket (the
// socket is made non-blocking). Reading a cold disk file can still block
// in sendfile on page-cache misses. Errors: the file ended early, the peer
// stalled or went away.
boost::asio::awaitable<Status> send_file_range(boost::asio::ip::tcp::socket& socket, int fd,
                                               uint64_t offset, uint64_t length,
                                               uint32_t stall_timeout_ms);

// The same for a connection whose bytes are encrypted in user space (TLS):
// sendfile cannot be used, so the range is read (pread) into one bounded
// buffer and written through `stream`, a chunk at a time. Each chunk must be
// taken by the peer within `stall_timeout_ms` (Beast's expiry on the
// stream; left armed when this returns). Yields the worker every few MiB
// like the sendfile path. Errors as above.
boost::asio::awaitable<Status> send_file_range_copy(HttpTransport& stream, int fd, uint64_t offset,
                                                    uint64_t length, uint32_t stall_timeout_ms);

}  // namespace cascade::net
