// Worker: one thread's share of the virtual viewers, on its own epoll loop
// (level-triggered, non-blocking sockets). Viewer i of the run starts at
// t0 + i / ramp and belongs to worker i % threads.
//
// Per viewer: a socket, a PlaySession, a MediaTracker and a 32-byte carry
// for a chunk header split across reads. Received bytes land in one read
// buffer per worker and are parsed there in place; nothing is allocated per
// message. Slow viewers read through a token bucket (--slow-rate) and leave
// the epoll set while it is empty. HLS viewers also have timers (playlist
// polls and retries, in one heap per worker), and reconnect when the server
// closes a keep-alive connection between answers.
//
// Thread affinity: run() and everything but progress() belong to the worker
// thread; progress() counters may be read from any thread.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

#include "loadgen/flv_play_session.h"
#include "loadgen/histograms.h"
#include "loadgen/hls_play_session.h"
#include "loadgen/options.h"
#include "loadgen/report.h"
#include "loadgen/rtmp_play_session.h"

namespace cascade::loadgen {

int64_t monotonic_us();

// What all workers share, read-only during the run.
struct Plan {
  Options options;
  Mode mode = Mode::kRtmp;
  sockaddr_storage address{};
  socklen_t address_len = 0;
  // One target per stream (--streams); viewer i plays stream i % size.
  std::vector<std::unique_ptr<RtmpPlayTarget>> rtmp;
  std::vector<std::unique_ptr<FlvPlayTarget>> flv;
  std::vector<std::unique_ptr<HlsPlayTarget>> hls;
  int64_t t0_us = 0;
};

struct alignas(64) Progress {
  std::atomic<uint64_t> bytes_regular{0};
  std::atomic<uint64_t> bytes_slow{0};
  std::atomic<uint32_t> started{0};
  std::atomic<uint32_t> playing{0};
  std::atomic<uint32_t> failed{0};
  std::atomic<uint32_t> ended{0};  // connected viewers that ended early
};

class Worker {
 public:
  Worker(const Plan& plan, uint32_t index, const std::atomic<bool>& stop);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();

  const Progress& progress() const { return progress_; }
  // After run() returns.
  std::vector<ViewerResult>& results() { return results_; }
  const DeltaHistogram& video_deltas() const { return video_deltas_; }
  const DeltaHistogram& audio_deltas() const { return audio_deltas_; }
  HlsThreadState& hls_state() { return hls_state_; }

 private:
  struct Viewer;
  enum class End : uint8_t { kFailed, kCorrupt, kClosed };

  void start_viewer(Viewer& v, int64_t now);
  void open_socket(Viewer& v, int64_t now);
  void reconnect(Viewer& v, int64_t now);
  void on_server_close(Viewer& v, std::string reason, int64_t now);
  void arm_timer(Viewer& v);
  void run_timers(int64_t now);
  void on_connected(Viewer& v, int64_t now);
  void on_readable(Viewer& v, int64_t now);
  void on_writable(Viewer& v, int64_t now);
  void send_scratch(Viewer& v, int64_t now);
  void after_feed(Viewer& v, int64_t now);
  void end_viewer(Viewer& v, End end, std::string reason, int64_t now);
  void set_interest(Viewer& v);
  void refill(Viewer& v, int64_t now);
  void tick_throttled(int64_t now);
  void tick_setup(int64_t now);
  ViewerResult result_of(Viewer& v, int64_t stop_us);

  const Plan& plan_;
  const uint32_t index_;
  const std::atomic<bool>& stop_;
  int epoll_fd_ = -1;
  uint32_t count_ = 0;    // viewers of this worker
  uint32_t started_ = 0;  // viewers started so far (in start order)
  uint32_t in_setup_ = 0;
  std::unique_ptr<Viewer[]> viewers_;
  std::vector<Viewer*> throttled_;
  std::vector<uint8_t> read_buffer_;
  std::vector<uint8_t> scratch_;  // bytes to send, reused
  DeltaHistogram video_deltas_, audio_deltas_;
  HlsThreadState hls_state_;
  // (due, viewer); an entry is stale unless it matches the viewer's timer_due.
  std::priority_queue<std::pair<int64_t, Viewer*>, std::vector<std::pair<int64_t, Viewer*>>,
                      std::greater<>>
      timers_;
  Progress progress_;
  std::vector<ViewerResult> results_;
  uint64_t bytes_regular_ = 0, bytes_slow_ = 0;
};

}  // namespace cascade::loadgen
