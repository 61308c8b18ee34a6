#include "net/send_file.h"

#include <sys/sendfile.h>

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

namespace cascade::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using namespace boost::asio::experimental::awaitable_operators;

awaitable<Status> send_file_range(boost::asio::ip::tcp::socket& socket, int fd, uint64_t offset,
                                  uint64_t length, uint32_t stall_timeout_ms) {
  // Bounded per call so one large file does not hog the worker.
  constexpr size_t kMaxPerCall = 1 << 20;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true);
  off_t position = static_cast<off_t>(offset);
  uint64_t left = length;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, kMaxPerCall));
    const ssize_t sent = ::sendfile(socket.native_handle(), fd, &position, want);
    if (sent > 0) {
      left -= static_cast<uint64_t>(sent);
      continue;
    }
    if (sent == 0) co_return make_error("the file ended early (truncated while serving?)");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      co_return make_error("sendfile: {}", std::strerror(errno));
    }
    boost::asio::steady_timer timer(socket.get_executor(),
                                    std::chrono::milliseconds(stall_timeout_ms));
    auto ready =
        co_await (socket.async_wait(boost::asio::ip::tcp::socket::wait_write, use_awaitable) ||
                  timer.async_wait(use_awaitable));
    if (ready.index() == 1) co_return make_error("the client stopped reading");
  }
  co_return Status{};
}

}  // namespace cascade::net
