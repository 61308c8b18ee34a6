// IoPool: a few threads for blocking work, so no worker's event loop waits on
// a disk (ARCHITECTURE.md, "Threads": disk and other blocking work go to a
// small I/O pool). What goes there: reads that may miss the page cache and
// what is parsed from them (a VOD file's MP4 or FLV index, an HLS segment's
// samples). What does not: anything per packet, and anything that touches a
// connection (sockets stay on their worker).
//
// run(fn) is awaited from a coroutine on a worker: fn() runs on a pool thread
// and the coroutine resumes on its own worker with fn's result. Jobs run in
// the order they were queued, at most `threads` at once; the queue is not
// bounded here (callers bound what they queue: one job per request).
//
// With 0 threads, run() calls fn inline on the caller's thread (tests, and
// an operator's choice: config [vod] io_threads = 0).
//
// Shutdown: stop() (or the destructor) waits for running jobs and drops the
// queued ones; their coroutines are not resumed (the server stops its
// workers first, so nothing waits on them any more).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/metrics.h"

namespace cascade::net {

class IoPool {
 public:
  explicit IoPool(unsigned threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  unsigned threads() const { return threads_; }
  // Jobs queued or running now (also the gauge cascade_io_pool_jobs).
  int64_t jobs() const { return jobs_.load(std::memory_order_relaxed); }

  void stop();

  template <typename F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F fn) {
    using R = std::invoke_result_t<F&>;
    if (!pool_) co_return fn();
    std::optional<R> result;
    auto job = [this, &fn, &result](auto handler) {
      begin_job();
      boost::asio::post(*pool_, [this, &fn, &result, handler = std::move(handler)]() mutable {
        result.emplace(fn());
        end_job();
        // Back to the awaiting coroutine's worker.
        auto executor = boost::asio::get_associated_executor(handler);
        boost::asio::post(executor, std::move(handler));
      });
    };
    // No temporaries in the co_await expression (GCC 12 coroutine bug).
    auto done = boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
        job, boost::asio::use_awaitable);
    co_await std::move(done);
    co_return std::move(*result);
  }

 private:
  void begin_job();
  void end_job();

  unsigned threads_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::atomic<int64_t> jobs_{0};
  Gauge& jobs_gauge_;
  Counter& jobs_total_;
};

}  // namespace cascade::net
