// WorkerPool: N event loops, one thread each (ARCHITECTURE.md, "Threads").
// A connection is bound to one worker for its life.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace cascade::net {

class WorkerPool {
 public:
  explicit WorkerPool(size_t count);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(size_t index) { return *contexts_[index]; }
  std::vector<boost::asio::io_context*> contexts();

  // Runs every event loop on its own thread.
  void start();
  // Lets the loops run out of work, or stops them at once (force).
  void stop(bool force);
  void join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace cascade::net
