#include "net/io_pool.h"

namespace cascade::net {

IoPool::IoPool(unsigned threads)
    : threads_(threads),
      jobs_gauge_(Metrics::global().gauge("cascade_io_pool_jobs")),
      jobs_total_(Metrics::global().counter("cascade_io_pool_jobs_total")) {
  if (threads > 0) pool_ = std::make_unique<boost::asio::thread_pool>(threads);
}

IoPool::~IoPool() {
  stop();
}

void IoPool::stop() {
  if (!pool_) return;
  pool_->stop();
  pool_->join();
}

void IoPool::begin_job() {
  jobs_.fetch_add(1, std::memory_order_relaxed);
  jobs_gauge_.add(1);
  jobs_total_.inc();
}

void IoPool::end_job() {
  jobs_.fetch_sub(1, std::memory_order_relaxed);
  jobs_gauge_.add(-1);
}

}  // namespace cascade::net
