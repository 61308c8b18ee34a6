#include "vod/file_sender.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cascade::vod {

using boost::asio::awaitable;

awaitable<Status> send_file_range(net::HttpConnection& connection, int fd, uint64_t offset,
                                  uint64_t length, uint32_t stall_timeout_ms, TokenBucket* pacer) {
  if (!pacer) co_return co_await connection.send_file(fd, offset, length, stall_timeout_ms);
  boost::asio::steady_timer timer(connection.socket().get_executor());
  uint64_t position = offset;
  uint64_t left = length;
  while (left > 0) {
    const TokenBucket::Grant grant = pacer->grant(left, TokenBucket::Clock::now());
    if (grant.bytes == 0) {
      // Sleeps until the bucket holds a worthwhile grant (about 100 ms of
      // rate at most). A peer that goes away meanwhile is noticed by the
      // next sendfile.
      timer.expires_after(grant.wait);
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return make_error("the paced send was cancelled");
      continue;
    }
    Status sent = co_await connection.send_file(fd, position, grant.bytes, stall_timeout_ms);
    if (!sent) co_return sent;
    pacer->consume(grant.bytes);
    position += grant.bytes;
    left -= grant.bytes;
  }
  co_return Status{};
}

}  // namespace cascade::vod
