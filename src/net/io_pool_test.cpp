#include "net/io_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cascade::net {
namespace {

using boost::asio::awaitable;

TEST(IoPool, RunsTheJobOnAPoolThreadAndResumesOnTheCallersLoop) {
  IoPool pool(2);
  boost::asio::io_context loop;
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id job_thread, resumed_thread;
  std::string result;
  boost::asio::co_spawn(
      loop,
      [&]() -> awaitable<void> {
        auto job = [&] {
          job_thread = std::this_thread::get_id();
          return std::string("parsed");
        };
        result = co_await pool.run(job);
        resumed_thread = std::this_thread::get_id();
      },
      boost::asio::detached);
  loop.run();
  EXPECT_EQ(result, "parsed");
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(resumed_thread, loop_thread);
  EXPECT_EQ(pool.jobs(), 0);
}

TEST(IoPool, ABlockingJobDoesNotBlockTheLoop) {
  IoPool pool(1);
  boost::asio::io_context loop;
  std::vector<std::string> order;
  std::atomic<bool> release{false};
  boost::asio::co_spawn(
      loop,
      [&]() -> awaitable<void> {
        auto slow = [&] {
          while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return 1;
        };
        const int value = co_await pool.run(slow);
        order.push_back("slow " + std::to_string(value));
      },
      boost::asio::detached);
  boost::asio::co_spawn(
      loop,
      [&]() -> awaitable<void> {
        order.push_back("other");
        release = true;  // only reached if the loop is free while the job blocks
        co_return;
      },
      boost::asio::detached);
  loop.run();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], "other");
  EXPECT_EQ(order[1], "slow 1");
}

TEST(IoPool, ZeroThreadsRunsInline) {
  IoPool pool(0);
  boost::asio::io_context loop;
  std::thread::id job_thread;
  int result = 0;
  boost::asio::co_spawn(
      loop,
      [&]() -> awaitable<void> {
        auto job = [&] {
          job_thread = std::this_thread::get_id();
          return 7;
        };
        result = co_await pool.run(job);
      },
      boost::asio::detached);
  loop.run();
  EXPECT_EQ(result, 7);
  EXPECT_EQ(job_thread, std::this_thread::get_id());
}

TEST(IoPool, ManyJobsFromSeveralLoopsAllComplete) {
  IoPool pool(3);
  constexpr int kLoops = 2, kJobs = 200;
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  std::atomic<int> done{0};
  long sum[kLoops] = {};
  for (int l = 0; l < kLoops; ++l) {
    loops.push_back(std::make_unique<boost::asio::io_context>());
    for (int j = 0; j < kJobs; ++j) {
      boost::asio::co_spawn(
          *loops.back(),
          [&, l, j]() -> awaitable<void> {
            auto job = [j] { return j; };
            sum[l] += co_await pool.run(job);  // resumed on loop l only: no race
            ++done;
          },
          boost::asio::detached);
    }
  }
  std::vector<std::thread> threads;
  for (auto& loop : loops) threads.emplace_back([&loop] { loop->run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), kLoops * kJobs);
  for (long s : sum) EXPECT_EQ(s, kJobs * (kJobs - 1) / 2);
  EXPECT_EQ(pool.jobs(), 0);
}

}  // namespace
}  // namespace cascade::net
