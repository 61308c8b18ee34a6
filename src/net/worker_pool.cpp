#include "net/worker_pool.h"

#include <pthread.h>

#include <string>

namespace cascade::net {

WorkerPool::WorkerPool(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    // One thread per context: the concurrency hint lets Asio skip some locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

WorkerPool::~WorkerPool() {
  stop(true);
  join();
}

std::vector<boost::asio::io_context*> WorkerPool::contexts() {
  std::vector<boost::asio::io_context*> out;
  for (auto& c : contexts_) out.push_back(c.get());
  return out;
}

void WorkerPool::start() {
  for (size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([this, i] {
      std::string name = "worker-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      contexts_[i]->run();
    });
  }
}

void WorkerPool::stop(bool force) {
  guards_.clear();
  if (force) {
    for (auto& c : contexts_) c->stop();
  }
}

void WorkerPool::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace cascade::net
