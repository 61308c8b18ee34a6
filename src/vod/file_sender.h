// Sends a byte range of an open file to a TCP socket with sendfile(2)
// (net/send_file.h): the kernel copies page cache to socket, no user-space
// buffer. A peer that accepts nothing for `stall_timeout_ms` ends the send.
//
// With a pacer (throttle.h) the body goes out no faster than the bucket
// grants: bounded sendfile calls with asio timers in between, so a throttled
// response holds no thread and never spins while it waits.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

#include "core/result.h"
#include "vod/throttle.h"

namespace cascade::vod {

// Runs on the socket's worker. Reading a cold file can block that worker in
// sendfile (page-cache misses); see README "VOD" (an I/O pool is future work).
// `pacer`: null sends as fast as the peer reads; else the bucket is drawn
// from (and may be shared by the several ranges of one response) and must
// outlive the call.
boost::asio::awaitable<Status> send_file_range(boost::asio::ip::tcp::socket& socket, int fd,
                                               uint64_t offset, uint64_t length,
                                               uint32_t stall_timeout_ms,
                                               TokenBucket* pacer = nullptr);

}  // namespace cascade::vod
