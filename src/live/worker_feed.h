// WorkerFeed: one stream in one format on one worker. Holds the packets
// relayed from the stream's home worker in a bounded ring, and drives every
// viewer of that stream and format on this worker.
//
// Contract: all member functions run on the feed's worker thread. The home
// worker calls prime() once, then push()/set_headers() per packet, then
// end(); each crosses threads once per worker (by post), never per viewer.
// Memory is bounded: packets older than lag_skip_ms are evicted unless a
// viewer's outstanding write pins them, and a viewer stalled past
// lag_close_ms is closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "live/hub_config.h"
#include "live/packet.h"
#include "live/stream_info.h"
#include "live/viewer.h"

namespace cascade::live {

class WorkerFeed : public std::enable_shared_from_this<WorkerFeed> {
 public:
  using EmptyCallback = std::function<void(WorkerFeed&)>;

  WorkerFeed(boost::asio::io_context& worker, const HubConfig& config, std::string key,
             EmptyCallback on_empty);
  ~WorkerFeed();

  // From the home worker.
  void prime(StreamInfo info, std::vector<Packet> headers, std::vector<Packet> gop);
  void push(Packet packet);
  void set_headers(StreamInfo info, std::vector<Packet> headers);
  void end();

  // From viewers on this worker. retain()/release() count a viewer from its
  // construction to its destruction; the feed is empty when none is left.
  void retain() { ++viewer_count_; }
  void release();
  void add(Viewer& viewer);
  void remove(Viewer& viewer);
  void drive(Viewer& viewer);
  void unpin(uint64_t seq);
  void resume_at_newest(Viewer& viewer);

  const std::string& key() const { return key_; }
  bool ended() const { return ended_; }
  size_t viewer_count() const { return viewer_count_; }
  size_t ring_size() const { return ring_.size(); }
  uint64_t ring_bytes() const { return ring_bytes_; }
  const StreamInfo& info() const { return info_; }
  // Frame in (Packet::ingest_us) to a viewer's write complete, per write of
  // packets that arrived while the viewer watched, in milliseconds.
  Histogram& added_latency() { return added_latency_; }

 private:
  struct Entry {
    Packet packet;
    uint32_t pins = 0;
  };
  using ViewerList = boost::intrusive::list<
      Viewer, boost::intrusive::member_hook<Viewer, ViewerListHook, &Viewer::all_hook_>,
      boost::intrusive::constant_time_size<false>>;
  using IdleList = boost::intrusive::list<
      Viewer, boost::intrusive::member_hook<Viewer, ViewerListHook, &Viewer::idle_hook_>,
      boost::intrusive::constant_time_size<false>>;

  const Entry& at(uint64_t seq) const { return ring_[seq - base_seq_]; }
  uint64_t head_seq() const { return base_seq_ + ring_.size(); }
  void start(Viewer& viewer);
  void wake_idle();
  void schedule_wake();
  void evict();
  void close(Viewer& viewer, std::string_view reason, Counter& counter);
  void finish(Viewer& viewer);
  void arm_sweep();
  void sweep();

  const HubConfig& config_;
  std::string key_;
  EmptyCallback on_empty_;

  std::deque<Entry> ring_;
  uint64_t base_seq_ = 0;
  uint64_t ring_bytes_ = 0;
  std::optional<uint64_t> join_seq_;  // newest join point in the ring
  MediaTimeMs head_dts_ = 0;
  std::vector<Packet> headers_;
  StreamInfo info_;
  bool primed_ = false;
  bool ended_ = false;

  ViewerList viewers_;
  IdleList idle_;
  size_t viewer_count_ = 0;
  boost::asio::steady_timer wake_timer_;
  bool wake_armed_ = false;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;

  Counter& skips_;
  Counter& closed_lag_;
  Counter& closed_stalled_;
  Histogram& added_latency_;
};

}  // namespace cascade::live
