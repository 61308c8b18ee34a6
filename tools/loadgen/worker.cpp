#include "loadgen/worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "loadgen/media_tracker.h"

namespace cascade::loadgen {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;
constexpr int kMaxEvents = 512;
constexpr int64_t kThrottleTickUs = 10'000;
constexpr int64_t kSetupTickUs = 100'000;
constexpr int64_t kMaxWaitUs = 50'000;
// Token bucket of a slow viewer: a quarter second of its rate (at least 1 KiB);
// a throttled viewer resumes once it is half full.
constexpr double kBucketSeconds = 0.25;
constexpr double kMinBucketBytes = 1024;

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

int64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

struct Worker::Viewer {
  enum class Phase : uint8_t { kIdle, kConnecting, kActive, kDone };

  Phase phase = Phase::kIdle;
  bool slow = false;
  bool connected = false;
  bool throttled = false;
  bool corrupt = false;
  bool closed_by_server = false;
  uint8_t carry_size = 0;
  uint32_t events = 0;  // current epoll interest (0: not registered)
  int fd = -1;
  uint32_t index = 0;  // in the run
  int64_t connect_start_us = 0;
  int64_t end_us = 0;
  int64_t refill_us = 0;
  int64_t timer_due = 0;  // the session's timer, as queued in timers_
  double tokens = 0;
  double bucket = 0;
  uint64_t bytes = 0;
  std::unique_ptr<PlaySession> session;
  std::vector<uint8_t> pending_out;
  std::string reason;
  MediaTracker tracker;
  std::unique_ptr<HlsStats> hls;  // HLS viewers
  std::array<uint8_t, PlaySession::kMaxCarry> carry{};
};

Worker::Worker(const Plan& plan, uint32_t index, const std::atomic<bool>& stop)
    : plan_(plan), index_(index), stop_(stop) {
  const uint32_t threads = plan.options.threads;
  const uint32_t total = plan.options.viewers;
  count_ = total > index ? (total - index + threads - 1) / threads : 0;
  viewers_ = std::make_unique<Viewer[]>(count_);
  for (uint32_t k = 0; k < count_; ++k) {
    Viewer& v = viewers_[k];
    v.index = index + k * threads;
    v.slow = is_slow_viewer(v.index, plan.options.slow_fraction);
    if (v.slow) {
      v.bucket = std::max(plan.options.slow_rate * kBucketSeconds, kMinBucketBytes);
      v.tokens = v.bucket;
    }
    v.tracker = MediaTracker(&video_deltas_, &audio_deltas_);
  }
  read_buffer_.resize(kReadBufferSize);
  scratch_.reserve(8192);
}

Worker::~Worker() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Worker::set_interest(Viewer& v) {
  uint32_t want = 0;
  if (v.phase == Viewer::Phase::kConnecting) {
    want = EPOLLOUT;
  } else if (v.phase == Viewer::Phase::kActive) {
    if (!v.throttled) want |= EPOLLIN;
    if (!v.pending_out.empty()) want |= EPOLLOUT;
  }
  if (want == v.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &v;
  int op = v.events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  // A throttled viewer leaves the set altogether, so that a hang-up cannot
  // make a level-triggered epoll spin on it.
  if (epoll_ctl(epoll_fd_, op, v.fd, &ev) == 0) v.events = want;
}

void Worker::start_viewer(Viewer& v, int64_t now) {
  v.phase = Viewer::Phase::kConnecting;  // counted in in_setup_ from here on
  v.connect_start_us = now;
  v.refill_us = now;
  progress_.started.fetch_add(1, std::memory_order_relaxed);
  ++in_setup_;
  if (plan_.mode == Mode::kRtmp) {
    v.session = std::make_unique<RtmpPlaySession>(*plan_.rtmp[v.index % plan_.rtmp.size()],
                                                  v.tracker);
  } else if (plan_.mode == Mode::kFlv) {
    v.session =
        std::make_unique<FlvPlaySession>(*plan_.flv[v.index % plan_.flv.size()], v.tracker);
  } else {
    v.hls = std::make_unique<HlsStats>();
    v.session = std::make_unique<HlsPlaySession>(*plan_.hls[v.index % plan_.hls.size()], *v.hls,
                                                 &hls_state_);
  }
  open_socket(v, now);
}

void Worker::open_socket(Viewer& v, int64_t now) {
  // A connected viewer that cannot reconnect has been closed, not failed.
  const End failure = v.connected ? End::kClosed : End::kFailed;
  v.fd = ::socket(plan_.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (v.fd < 0) {
    end_viewer(v, failure, errno_text("socket", errno), now);
    return;
  }
  int one = 1;
  setsockopt(v.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (plan_.options.rcvbuf) {
    int size = *plan_.options.rcvbuf;
    setsockopt(v.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  int rc = ::connect(v.fd, reinterpret_cast<const sockaddr*>(&plan_.address), plan_.address_len);
  if (rc == 0) {
    on_connected(v, now);
  } else if (errno == EINPROGRESS) {
    set_interest(v);
  } else {
    end_viewer(v, failure, errno_text("connect", errno), now);
  }
}

void Worker::reconnect(Viewer& v, int64_t now) {
  ::close(v.fd);  // also leaves the epoll set
  v.fd = -1;
  v.events = 0;
  v.carry_size = 0;
  std::vector<uint8_t>().swap(v.pending_out);
  if (v.throttled) {
    v.throttled = false;
    throttled_.erase(std::find(throttled_.begin(), throttled_.end(), &v));
  }
  v.phase = Viewer::Phase::kConnecting;
  open_socket(v, now);
}

void Worker::on_server_close(Viewer& v, std::string reason, int64_t now) {
  if (v.session->on_close(now)) {
    reconnect(v, now);
  } else {
    end_viewer(v, End::kClosed, std::move(reason), now);
  }
}

void Worker::arm_timer(Viewer& v) {
  const int64_t due = v.session ? v.session->timer_us() : 0;
  if (due != 0 && due != v.timer_due) {
    v.timer_due = due;
    timers_.emplace(due, &v);
  }
}

void Worker::run_timers(int64_t now) {
  while (!timers_.empty() && timers_.top().first <= now) {
    auto [due, viewer] = timers_.top();
    timers_.pop();
    Viewer& v = *viewer;
    if (v.timer_due != due) continue;  // stale
    v.timer_due = 0;
    if (v.phase != Viewer::Phase::kActive) continue;  // re-armed once connected
    if (v.session->timer_us() != due) {
      arm_timer(v);
      continue;
    }
    scratch_.clear();
    v.session->on_timer(now, scratch_);
    send_scratch(v, now);
    if (v.phase != Viewer::Phase::kActive) continue;
    after_feed(v, now);
    if (v.phase == Viewer::Phase::kActive) arm_timer(v);
  }
}

void Worker::on_connected(Viewer& v, int64_t now) {
  v.phase = Viewer::Phase::kActive;
  scratch_.clear();
  v.session->on_connect(now, scratch_);
  send_scratch(v, now);
  if (v.phase != Viewer::Phase::kActive) return;
  set_interest(v);
  arm_timer(v);
}

void Worker::send_scratch(Viewer& v, int64_t now) {
  if (scratch_.empty()) return;
  if (!v.pending_out.empty()) {
    v.pending_out.insert(v.pending_out.end(), scratch_.begin(), scratch_.end());
    scratch_.clear();
    return;
  }
  ssize_t n = ::send(v.fd, scratch_.data(), scratch_.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      scratch_.clear();
      on_server_close(v, errno_text("send", errno), now);
      return;
    }
    n = 0;
  }
  if (static_cast<size_t>(n) < scratch_.size()) {
    v.pending_out.assign(scratch_.begin() + n, scratch_.end());
    set_interest(v);
  }
  scratch_.clear();
}

void Worker::on_writable(Viewer& v, int64_t now) {
  if (v.pending_out.empty()) {
    set_interest(v);
    return;
  }
  ssize_t n = ::send(v.fd, v.pending_out.data(), v.pending_out.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    on_server_close(v, errno_text("send", errno), now);
    return;
  }
  v.pending_out.erase(v.pending_out.begin(), v.pending_out.begin() + n);
  if (v.pending_out.empty()) {
    std::vector<uint8_t>().swap(v.pending_out);
    set_interest(v);
  }
}

void Worker::refill(Viewer& v, int64_t now) {
  double elapsed = static_cast<double>(now - v.refill_us) / 1e6;
  v.refill_us = now;
  v.tokens = std::min(v.bucket, v.tokens + elapsed * plan_.options.slow_rate);
}

void Worker::after_feed(Viewer& v, int64_t now) {
  if (!v.connected && v.session->playing()) {
    v.connected = true;
    --in_setup_;
    progress_.playing.fetch_add(1, std::memory_order_relaxed);
  }
  switch (v.session->outcome()) {
    case PlaySession::Outcome::kActive:
      break;
    case PlaySession::Outcome::kFailed:
      end_viewer(v, End::kFailed, v.session->reason(), now);
      break;
    case PlaySession::Outcome::kCorrupt:
      end_viewer(v, End::kCorrupt, v.session->reason(), now);
      break;
  }
}

void Worker::on_readable(Viewer& v, int64_t now) {
  uint8_t* buffer = read_buffer_.data();
  for (int round = 0; round < 8; ++round) {
    size_t room = read_buffer_.size() - v.carry_size;
    if (v.slow) {
      refill(v, now);
      room = std::min(room, static_cast<size_t>(v.tokens));
      if (room == 0) {
        v.throttled = true;
        throttled_.push_back(&v);
        set_interest(v);
        return;
      }
    }
    std::memcpy(buffer, v.carry.data(), v.carry_size);
    ssize_t n = ::recv(v.fd, buffer + v.carry_size, room, 0);
    if (n == 0) {
      on_server_close(v, "server closed the connection", now);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      on_server_close(v, errno_text("recv", errno), now);
      return;
    }
    v.bytes += static_cast<uint64_t>(n);
    if (v.slow) {
      v.tokens -= static_cast<double>(n);
      bytes_slow_ += static_cast<uint64_t>(n);
      progress_.bytes_slow.store(bytes_slow_, std::memory_order_relaxed);
    } else {
      bytes_regular_ += static_cast<uint64_t>(n);
      progress_.bytes_regular.store(bytes_regular_, std::memory_order_relaxed);
    }
    const size_t total = v.carry_size + static_cast<size_t>(n);
    scratch_.clear();
    size_t consumed = v.session->feed(std::span<const uint8_t>(buffer, total), now, scratch_);
    send_scratch(v, now);
    if (v.phase != Viewer::Phase::kActive) return;
    after_feed(v, now);
    if (v.phase != Viewer::Phase::kActive) return;
    if (v.session->close_requested()) {  // the answer said Connection: close
      reconnect(v, now);
      return;
    }
    arm_timer(v);
    size_t left = total - consumed;
    if (left > v.carry.size()) {
      end_viewer(v, End::kCorrupt, "unparseable chunk header", now);
      return;
    }
    std::memcpy(v.carry.data(), buffer + consumed, left);
    v.carry_size = static_cast<uint8_t>(left);
    if (static_cast<size_t>(n) < room) return;  // drained the socket
  }
}

void Worker::end_viewer(Viewer& v, End end, std::string reason, int64_t now) {
  if (v.phase == Viewer::Phase::kDone) return;
  const bool playing = v.session && v.session->playing();
  if (playing && !v.connected) {
    v.connected = true;
    --in_setup_;
    progress_.playing.fetch_add(1, std::memory_order_relaxed);
  }
  if (!v.connected && v.phase != Viewer::Phase::kIdle) --in_setup_;
  if (v.fd >= 0) {
    ::close(v.fd);  // also leaves the epoll set
    v.fd = -1;
  }
  v.events = 0;
  v.phase = Viewer::Phase::kDone;
  v.end_us = now;
  if (v.connected) {
    if (end == End::kCorrupt) {
      v.corrupt = true;
      v.reason = "corrupt: " + reason;
    } else {
      v.closed_by_server = true;
      v.reason = "closed by server: " + reason;
      if (v.session->stream_ended()) v.reason += " (stream ended)";
    }
    progress_.ended.fetch_add(1, std::memory_order_relaxed);
  } else {
    v.reason = end == End::kClosed ? "closed during setup: " + reason : "failed: " + reason;
    progress_.failed.fetch_add(1, std::memory_order_relaxed);
  }
  if (v.throttled) {
    v.throttled = false;
    throttled_.erase(std::find(throttled_.begin(), throttled_.end(), &v));
  }
  v.session.reset();
  std::vector<uint8_t>().swap(v.pending_out);
}

void Worker::tick_throttled(int64_t now) {
  for (size_t i = 0; i < throttled_.size();) {
    Viewer& v = *throttled_[i];
    refill(v, now);
    if (v.tokens >= v.bucket / 2) {
      v.throttled = false;
      throttled_[i] = throttled_.back();
      throttled_.pop_back();
      set_interest(v);
    } else {
      ++i;
    }
  }
}

void Worker::tick_setup(int64_t now) {
  const int64_t timeout = int64_t(plan_.options.setup_timeout_ms) * 1000;
  for (uint32_t k = 0; k < started_ && in_setup_ > 0; ++k) {
    Viewer& v = viewers_[k];
    if (v.phase == Viewer::Phase::kDone || v.connected) continue;
    if (now - v.connect_start_us > timeout) {
      end_viewer(v, End::kFailed,
                 v.phase == Viewer::Phase::kConnecting ? "connect timeout" : "setup timeout", now);
    }
  }
}

void Worker::run() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event events[kMaxEvents];
  const double ramp = plan_.options.ramp_per_s;
  const uint32_t threads = plan_.options.threads;
  auto start_time = [&](uint32_t k) {
    return plan_.t0_us +
           static_cast<int64_t>(std::llround(double(index_ + k * threads) * 1e6 / ramp));
  };
  int64_t next_throttle_tick = 0, next_setup_tick = 0;
  const int64_t batch_us = int64_t(plan_.options.batch_ms) * 1000;
  int64_t last_wait = 0;
  int64_t now = monotonic_us();
  while (!stop_.load(std::memory_order_relaxed)) {
    while (started_ < count_ && start_time(started_) <= now) {
      start_viewer(viewers_[started_++], now);
    }
    if (!throttled_.empty() && now >= next_throttle_tick) {
      tick_throttled(now);
      next_throttle_tick = now + kThrottleTickUs;
    }
    if (in_setup_ > 0 && now >= next_setup_tick) {
      tick_setup(now);
      next_setup_tick = now + kSetupTickUs;
    }
    run_timers(now);
    int64_t wait_us = kMaxWaitUs;
    if (!timers_.empty()) wait_us = std::min(wait_us, timers_.top().first - now);
    if (started_ < count_) wait_us = std::min(wait_us, start_time(started_) - now);
    if (!throttled_.empty()) wait_us = std::min(wait_us, kThrottleTickUs);
    int timeout_ms = static_cast<int>(std::max<int64_t>(0, (wait_us + 999) / 1000));
    if (batch_us > 0) {
      // --batch-ms: let bytes pile up in the sockets so that each wakeup
      // reads more per syscall (arrival times are then quantized by it).
      int64_t since = monotonic_us() - last_wait;
      if (since < batch_us) {
        timespec pause{0, static_cast<long>((batch_us - since) * 1000)};
        nanosleep(&pause, nullptr);
      }
      last_wait = monotonic_us();
      timeout_ms = std::max(0, timeout_ms - static_cast<int>(batch_us / 1000));
    }
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    now = monotonic_us();
    for (int i = 0; i < n; ++i) {
      Viewer& v = *static_cast<Viewer*>(events[i].data.ptr);
      const uint32_t e = events[i].events;
      if (v.phase == Viewer::Phase::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(v.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          end_viewer(v, End::kFailed, errno_text("connect", err), now);
        } else if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
          on_connected(v, now);
        }
        continue;
      }
      if (v.phase != Viewer::Phase::kActive) continue;
      if (e & EPOLLOUT) on_writable(v, now);
      if (v.phase == Viewer::Phase::kActive && !v.throttled &&
          (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        on_readable(v, now);
      }
    }
  }

  const int64_t stop_us = monotonic_us();
  results_.reserve(count_);
  for (uint32_t k = 0; k < count_; ++k) results_.push_back(result_of(viewers_[k], stop_us));
  viewers_.reset();
}

ViewerResult Worker::result_of(Viewer& v, int64_t stop_us) {
  if (v.phase == Viewer::Phase::kIdle) {
    v.reason = "failed: not started (the run stopped during the ramp)";
  } else if (v.phase != Viewer::Phase::kDone) {
    if (!v.connected && !(v.session && v.session->playing())) {
      end_viewer(v, End::kFailed, "setup not complete when the run ended", stop_us);
    } else {
      if (!v.connected) v.connected = true;
      ::close(v.fd);
      v.fd = -1;
      v.phase = Viewer::Phase::kDone;
      v.end_us = stop_us;
    }
  }
  ViewerResult r;
  r.slow = v.slow;
  r.connected = v.connected;
  r.failed = !v.connected;
  r.corrupt = v.corrupt || (v.connected && v.tracker.first_video_not_keyframe());
  r.closed_by_server = v.closed_by_server && !r.corrupt;
  if (v.connected && !v.corrupt && v.tracker.first_video_not_keyframe()) {
    v.reason = "corrupt: first video frame is not a keyframe";
  }
  r.missing_sequence_header = v.tracker.missing_sequence_header();
  r.connect_start_us = v.connect_start_us;
  r.first_video_us = v.tracker.first_video_us();
  r.first_audio_us = v.tracker.first_audio_us();
  r.end_us = v.end_us;
  r.video_frames = v.tracker.video_frames();
  r.audio_frames = v.tracker.audio_frames();
  r.ts_violations = v.tracker.timestamp_violations();
  r.bytes = v.bytes;
  if (v.tracker.lag().count() > 0) {
    r.lag_p95_ms = v.tracker.lag().percentile(0.95);
    r.lag_max_ms = v.tracker.lag_max_ms();
  }
  if (v.hls) {
    r.hls = *v.hls;  // the counters
    r.first_video_us = v.hls->first_media_us;
    if (v.hls->lag.count() > 0) {
      r.lag_p95_ms = v.hls->lag.percentile(0.95);
      r.lag_max_ms = v.hls->lag.max();
    }
    v.hls.reset();
  }
  r.reason = std::move(v.reason);
  return r;
}

}  // namespace cascade::loadgen
