#include "live/viewer.h"

#include "core/time.h"
#include "live/worker_feed.h"

namespace cascade::live {

Viewer::Viewer(std::shared_ptr<WorkerFeed> feed, ViewerSink& sink)
    : feed_(std::move(feed)), sink_(sink) {
  // Counted from here, not from start(): the feed must not be detached as
  // empty between subscribe() and start().
  feed_->retain();
}

Viewer::~Viewer() {
  if (attached_) feed_->remove(*this);
  feed_->release();
  if (on_destroy_) on_destroy_();
}

void Viewer::start() {
  attached_ = true;
  feed_->add(*this);
}

void Viewer::on_write_complete(bool ok) {
  if (pinned_) {
    feed_->unpin(*pinned_);
    pinned_.reset();
  }
  headers_in_flight_.clear();
  const int64_t now_us = steady_now_us();  // one clock read per write
  last_write_ms_ = now_us / 1000 - write_started_ms_;
  if (!ok) {
    state_ = State::kDone;
    return;
  }
  bytes_sent_ += batch_bytes_;
  if (batch_first_ingest_us_ > 0 && batch_first_ingest_us_ >= joined_us_) {
    feed_->added_latency().observe(
        static_cast<double>(now_us - batch_first_ingest_us_) / 1000.0);
  }
  if (state_ == State::kWriting) {
    cursor_ = batch_end_;
    state_ = State::kIdle;
    feed_->drive(*this);
  } else if (state_ == State::kPaused) {
    cursor_ = batch_end_;
  }
}

void Viewer::set_paused(bool paused) {
  if (paused) {
    if (state_ == State::kIdle) {
      if (idle_hook_.is_linked()) idle_hook_.unlink();
      state_ = State::kPaused;
    } else if (state_ == State::kWriting) {
      state_ = State::kPaused;  // the outstanding write finishes first
    }
    return;
  }
  if (state_ == State::kPaused && !pinned_) feed_->resume_at_newest(*this);
  else if (state_ == State::kPaused) state_ = State::kWriting;
}

}  // namespace cascade::live
