// Sends a byte range of an open file as an HTTP body: with sendfile(2)
// (net/send_file.h) on plain HTTP, the kernel copies page cache to socket,
// no user-space buffer; through a bounded buffer on HTTPS
// (HttpConnection::send_file). A peer that accepts nothing for
// `stall_timeout_ms` ends the send.
//
// With a pacer (throttle.h) the body goes out no faster than the bucket
// grants: bounded sendfile calls with asio timers in between, so a throttled
// response holds no thread and never spins while it waits.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "core/result.h"
#include "net/http_server.h"
#include "vod/throttle.h"

namespace cascade::vod {

// Runs on the connection's worker. Reading a cold file can block that worker in
// sendfile (page-cache misses): unlike index reads and HLS segments, which go
// to the I/O pool (net/io_pool.h), sendfile stays on the worker, as nginx's
// does without `aio threads`.
// `pacer`: null sends as fast as the peer reads; else the bucket is drawn
// from (and may be shared by the several ranges of one response) and must
// outlive the call.
boost::asio::awaitable<Status> send_file_range(net::HttpConnection& connection, int fd,
                                               uint64_t offset, uint64_t length,
                                               uint32_t stall_timeout_ms,
                                               TokenBucket* pacer = nullptr);

}  // namespace cascade::vod
