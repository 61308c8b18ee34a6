// Sends a byte range of an open file to a TCP socket with sendfile(2): the
// kernel copies page cache to socket, no user-space buffer. Waits for the
// socket to drain between calls; a peer that accepts nothing for
// `stall_timeout_ms` ends the send.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "core/result.h"

namespace cascade::vod {

// Runs on the socket's worker. Reading a cold file can block that worker in
// sendfile (page-cache misses); see README "VOD" (an I/O pool is future work).
boost::asio::awaitable<Status> send_file_range(boost::asio::ip::tcp::socket& socket, int fd,
                                               uint64_t offset, uint64_t length,
                                               uint32_t stall_timeout_ms);

}  // namespace cascade::vod
