#include "net/send_file.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace cascade::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

// Watches one send for stalls with a single timer (not one per wait: a
// large body waits for the socket to drain thousands of times). When the
// peer has taken nothing for the whole stall timeout, the pending wait is
// cancelled. Shared with the timer's handler, which may run after the send
// has finished: `done` then stops it from touching the socket.
struct StallWatch : std::enable_shared_from_this<StallWatch> {
  StallWatch(boost::asio::ip::tcp::socket& s, std::chrono::milliseconds limit)
      : socket(&s), timer(s.get_executor()), timeout(limit), last_progress(Clock::now()) {}

  void arm(Clock::time_point when) {
    timer.expires_at(when);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->done) return;
      const Clock::time_point deadline = self->last_progress + self->timeout;
      if (Clock::now() < deadline) {
        self->arm(deadline);
        return;
      }
      self->stalled = true;
      boost::system::error_code ignored;
      self->socket->cancel(ignored);
    });
  }

  boost::asio::ip::tcp::socket* socket;
  boost::asio::steady_timer timer;
  const std::chrono::milliseconds timeout;
  Clock::time_point last_progress;
  bool stalled = false;
  bool done = false;
};

}  // namespace

awaitable<Status> send_file_range(boost::asio::ip::tcp::socket& socket, int fd, uint64_t offset,
                                  uint64_t length, uint32_t stall_timeout_ms) {
  // Bounded per call; after this much without the socket filling up, the
  // worker is given to others before going on (a fast reader must not hog
  // it).
  constexpr size_t kMaxPerCall = 1 << 20;
  constexpr uint64_t kYieldEvery = 8u << 20;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true);
  std::shared_ptr<StallWatch> watch;  // made at the first wait
  struct Finish {
    std::shared_ptr<StallWatch>& watch;
    ~Finish() {
      if (!watch) return;
      watch->done = true;
      watch->timer.cancel();
    }
  } finish{watch};
  off_t position = static_cast<off_t>(offset);
  uint64_t left = length;
  uint64_t since_yield = 0;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, kMaxPerCall));
    const ssize_t sent = ::sendfile(socket.native_handle(), fd, &position, want);
    if (sent > 0) {
      left -= static_cast<uint64_t>(sent);
      since_yield += static_cast<uint64_t>(sent);
      if (watch) watch->last_progress = Clock::now();
      if (since_yield >= kYieldEvery && left > 0) {
        since_yield = 0;
        co_await boost::asio::post(socket.get_executor(), use_awaitable);
      }
      continue;
    }
    if (sent == 0) co_return make_error("the file ended early (truncated while serving?)");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      co_return make_error("sendfile: {}", std::strerror(errno));
    }
    if (!watch) {
      watch = std::make_shared<StallWatch>(socket, std::chrono::milliseconds(stall_timeout_ms));
      watch->arm(watch->last_progress + watch->timeout);
    }
    since_yield = 0;
    boost::system::error_code ec;
    co_await socket.async_wait(boost::asio::ip::tcp::socket::wait_write,
                               boost::asio::redirect_error(use_awaitable, ec));
    if (watch->stalled) co_return make_error("the client stopped reading");
    // Other errors (a reset) are reported by the next sendfile.
  }
  co_return Status{};
}

awaitable<Status> send_file_range_copy(HttpTransport& stream, int fd, uint64_t offset,
                                       uint64_t length, uint32_t stall_timeout_ms) {
  // 64 KiB: four full TLS records (RFC 8446 5.1: at most 2^14 bytes each)
  // per write, one buffer per connection while it sends a body.
  constexpr size_t kChunk = 64 * 1024;
  constexpr uint64_t kYieldEvery = 8u << 20;
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[kChunk]);
  uint64_t position = offset;
  uint64_t left = length;
  uint64_t since_yield = 0;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
    const ssize_t got = ::pread(fd, buffer.get(), want, static_cast<off_t>(position));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) co_return make_error("pread: {}", std::strerror(errno));
    if (got == 0) co_return make_error("the file ended early (truncated while serving?)");
    const size_t n = static_cast<size_t>(got);
    stream.expires_after(std::chrono::milliseconds(stall_timeout_ms));
    boost::system::error_code ec;
    co_await boost::asio::async_write(stream, boost::asio::buffer(buffer.get(), n),
                                      boost::asio::redirect_error(use_awaitable, ec));
    if (ec == boost::beast::error::timeout) co_return make_error("the client stopped reading");
    if (ec) co_return make_error("write: {}", ec.message());
    position += n;
    left -= n;
    since_yield += n;
    if (since_yield >= kYieldEvery && left > 0) {
      since_yield = 0;
      co_await boost::asio::post(stream.get_executor(), use_awaitable);
    }
  }
  co_return Status{};
}

}  // namespace cascade::net
