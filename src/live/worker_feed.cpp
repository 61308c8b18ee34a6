#include "live/worker_feed.h"

#include <fmt/format.h>

#include "core/time.h"

namespace cascade::live {

WorkerFeed::WorkerFeed(boost::asio::io_context& worker, const HubConfig& config, std::string key,
                       EmptyCallback on_empty)
    : config_(config),
      key_(std::move(key)),
      on_empty_(std::move(on_empty)),
      wake_timer_(worker),
      sweep_timer_(worker),
      skips_(Metrics::global().counter("cascade_viewer_skips_total")),
      closed_lag_(Metrics::global().counter("cascade_viewer_closed_total{reason=\"lag\"}")),
      closed_stalled_(
          Metrics::global().counter("cascade_viewer_closed_total{reason=\"write_stalled\"}")),
      added_latency_(Metrics::global().histogram(
          "cascade_viewer_added_latency_ms",
          {1, 2, 5, 10, 20, 40, 60, 80, 100, 150, 200, 300, 500, 1000, 2000, 5000})) {}

WorkerFeed::~WorkerFeed() {
  viewers_.clear();
  idle_.clear();
}

void WorkerFeed::prime(StreamInfo info, std::vector<Packet> headers, std::vector<Packet> gop) {
  info_ = std::move(info);
  headers_ = std::move(headers);
  primed_ = true;
  for (Packet& packet : gop) push(std::move(packet));
  if (join_seq_) {
    for (Viewer& viewer : viewers_) {
      if (viewer.state_ == Viewer::State::kWaitingStart) start(viewer);
    }
  }
}

void WorkerFeed::set_headers(StreamInfo info, std::vector<Packet> headers) {
  info_ = std::move(info);
  headers_ = std::move(headers);
}

void WorkerFeed::push(Packet packet) {
  uint64_t seq = head_seq();
  ring_bytes_ += packet.bytes.size();
  if (packet.dts > head_dts_) head_dts_ = packet.dts;
  bool join = packet.join_point;
  ring_.push_back(Entry{std::move(packet), 0});
  if (join) {
    join_seq_ = seq;
    for (Viewer& viewer : viewers_) {
      if (viewer.state_ == Viewer::State::kWaitingStart) start(viewer);
    }
  }
  evict();
  schedule_wake();
}

void WorkerFeed::end() {
  ended_ = true;
  wake_timer_.cancel();
  // Viewers get everything up to the last packet, then the end.
  for (auto it = viewers_.begin(); it != viewers_.end();) {
    Viewer& viewer = *it++;
    if (viewer.state_ == Viewer::State::kWaitingStart || viewer.state_ == Viewer::State::kPaused) {
      finish(viewer);
    } else if (viewer.state_ == Viewer::State::kIdle) {
      drive(viewer);
    }
  }
}

void WorkerFeed::add(Viewer& viewer) {
  viewers_.push_back(viewer);
  if (ended_) {
    finish(viewer);
  } else if (primed_ && join_seq_) {
    start(viewer);
  }
}

void WorkerFeed::remove(Viewer& viewer) {
  if (viewer.pinned_) {
    unpin(*viewer.pinned_);
    viewer.pinned_.reset();
  }
  if (viewer.idle_hook_.is_linked()) viewer.idle_hook_.unlink();
  if (viewer.all_hook_.is_linked()) viewer.all_hook_.unlink();
}

void WorkerFeed::release() {
  if (--viewer_count_ == 0 && on_empty_) on_empty_(*this);
}

void WorkerFeed::start(Viewer& viewer) {
  viewer.cursor_ = *join_seq_;
  viewer.joined_us_ = steady_now_us();
  viewer.started_ = true;
  viewer.headers_in_flight_ = headers_;
  viewer.state_ = Viewer::State::kIdle;
  viewer.sink_.on_start(info_);
  if (viewer.state_ == Viewer::State::kIdle) drive(viewer);
}

void WorkerFeed::resume_at_newest(Viewer& viewer) {
  viewer.joined_us_ = steady_now_us();
  if (join_seq_) {
    viewer.cursor_ = *join_seq_;
  } else {
    viewer.cursor_ = head_seq();
    viewer.seen_keyframe_ = false;
  }
  viewer.state_ = Viewer::State::kIdle;
  drive(viewer);
}

void WorkerFeed::drive(Viewer& viewer) {
  if (viewer.state_ != Viewer::State::kIdle) return;
  if (viewer.idle_hook_.is_linked()) viewer.idle_hook_.unlink();
  const uint64_t head = head_seq();

  // Backpressure (ARCHITECTURE.md): a viewer that fell behind skips whole
  // GOPs to the newest keyframe; if it cannot, it is closed. Behind means the
  // cursor is old, or the socket took longer than the skip bound to accept
  // the last write (the lag then sits in kernel buffers).
  const bool evicted = viewer.cursor_ < base_seq_;
  const MediaTimeMs cursor_lag =
      evicted ? head_dts_ - at(base_seq_).packet.dts
              : (viewer.cursor_ < head ? head_dts_ - at(viewer.cursor_).packet.dts : 0);
  const bool slow_socket = viewer.last_write_ms_ > config_.lag_skip_ms;
  viewer.last_write_ms_ = 0;
  if (evicted || cursor_lag > config_.lag_skip_ms || slow_socket) {
    if (join_seq_ && *join_seq_ > viewer.cursor_) {
      viewer.cursor_ = *join_seq_;
      ++viewer.skips_;
      skips_.inc();
    } else if (evicted || cursor_lag > config_.lag_close_ms) {
      close(viewer, fmt::format("{} ms behind the live edge", cursor_lag), closed_lag_);
      return;
    }
  }

  size_t n = 0;
  uint32_t bytes = 0;
  for (const Packet& header : viewer.headers_in_flight_) {
    if (n < viewer.buffers_.size()) viewer.buffers_[n++] = boost::asio::const_buffer(header.bytes.data(), header.bytes.size());
  }
  const size_t max_buffers = std::min<size_t>(viewer.buffers_.size(), config_.max_batch_packets);
  uint64_t seq = viewer.cursor_;
  viewer.batch_first_ingest_us_ = -1;
  for (; seq < head && n < max_buffers && bytes < config_.max_batch_bytes; ++seq) {
    const Packet& packet = at(seq).packet;
    if (!viewer.seen_keyframe_ && packet.kind == media::TrackKind::kVideo && !packet.config) {
      if (!packet.keyframe) continue;  // a viewer's first video frame is a keyframe
      viewer.seen_keyframe_ = true;
    }
    if (viewer.batch_first_ingest_us_ < 0) viewer.batch_first_ingest_us_ = packet.ingest_us;
    viewer.buffers_[n++] = boost::asio::const_buffer(packet.bytes.data(), packet.bytes.size());
    bytes += static_cast<uint32_t>(packet.bytes.size());
  }
  viewer.batch_end_ = seq;
  if (n == 0) {
    viewer.cursor_ = seq;
    if (ended_) {
      finish(viewer);
    } else {
      idle_.push_back(viewer);
    }
    return;
  }
  if (viewer.cursor_ < seq) {
    // Pinning the first entry keeps the whole range: eviction is from the front.
    ring_[viewer.cursor_ - base_seq_].pins++;
    viewer.pinned_ = viewer.cursor_;
  }
  viewer.state_ = Viewer::State::kWriting;
  viewer.write_started_ms_ = steady_now_ms();
  viewer.batch_bytes_ = bytes;
  arm_sweep();
  viewer.sink_.write(std::span(viewer.buffers_.data(), n));
}

void WorkerFeed::unpin(uint64_t seq) {
  if (seq >= base_seq_ && seq < head_seq()) ring_[seq - base_seq_].pins--;
}

void WorkerFeed::schedule_wake() {
  if (config_.coalesce_ms == 0) {
    wake_idle();
    return;
  }
  if (wake_armed_) return;
  wake_armed_ = true;
  wake_timer_.expires_after(std::chrono::milliseconds(config_.coalesce_ms));
  wake_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self) return;
    self->wake_armed_ = false;
    if (!ec) self->wake_idle();
  });
}

void WorkerFeed::wake_idle() {
  // drive() may put a viewer back on the idle list; work from a detached copy.
  IdleList woken;
  woken.splice(woken.end(), idle_);
  while (!woken.empty()) {
    Viewer& viewer = woken.front();
    woken.pop_front();
    drive(viewer);
  }
}

void WorkerFeed::evict() {
  while (!ring_.empty() && ring_.front().pins == 0) {
    const Packet& front = ring_.front().packet;
    bool over_bytes = ring_bytes_ > config_.gop_cache_max_bytes;
    bool in_current_gop = join_seq_ && base_seq_ >= *join_seq_;
    bool old = head_dts_ - front.dts > config_.lag_skip_ms;
    if (!over_bytes && (in_current_gop || !old)) break;
    if (join_seq_ && *join_seq_ == base_seq_) join_seq_.reset();
    ring_bytes_ -= front.bytes.size();
    ring_.pop_front();
    ++base_seq_;
  }
}

void WorkerFeed::close(Viewer& viewer, std::string_view reason, Counter& counter) {
  counter.inc();
  viewer.state_ = Viewer::State::kDone;
  if (viewer.idle_hook_.is_linked()) viewer.idle_hook_.unlink();
  viewer.sink_.on_closed(reason);
}

void WorkerFeed::finish(Viewer& viewer) {
  viewer.state_ = Viewer::State::kDone;
  if (viewer.idle_hook_.is_linked()) viewer.idle_hook_.unlink();
  viewer.sink_.on_end();
}

void WorkerFeed::arm_sweep() {
  if (sweep_armed_) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self) return;
    self->sweep_armed_ = false;
    if (!ec) self->sweep();
  });
}

void WorkerFeed::sweep() {
  int64_t now = steady_now_ms();
  bool writing = false;
  for (auto it = viewers_.begin(); it != viewers_.end();) {
    Viewer& viewer = *it++;
    if (viewer.state_ != Viewer::State::kWriting) continue;
    int64_t stalled = now - viewer.write_started_ms_;
    MediaTimeMs behind = viewer.pinned_ ? head_dts_ - at(*viewer.pinned_).packet.dts : 0;
    if (stalled > config_.lag_close_ms) {
      close(viewer, fmt::format("write stalled for {} ms", stalled), closed_stalled_);
    } else if (behind > config_.lag_close_ms) {
      // Still writing data this old (the head moved on while it waited).
      close(viewer, fmt::format("{} ms behind the live edge", behind), closed_lag_);
    } else {
      writing = true;
    }
  }
  if (writing) arm_sweep();
}

}  // namespace cascade::live
