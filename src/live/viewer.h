// Viewer: one viewer's position (cursor) in its worker's feed of a stream,
// and the logic that turns the shared packets into its socket writes.
//
// Contract: lives on one worker thread, owned by the viewer's connection.
// Per viewer the hub keeps only a cursor and a small array of buffer views:
// no copies, no queue, no allocation per packet. Before destroying a Viewer
// whose write is outstanding, the connection must close its socket (so the
// kernel no longer reads the buffers).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/intrusive/list_hook.hpp>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "live/packet.h"
#include "live/viewer_sink.h"

namespace cascade::live {

class WorkerFeed;
class Hub;

using ViewerListHook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class Viewer {
 public:
  static constexpr size_t kMaxBatchBuffers = 32;

  Viewer(std::shared_ptr<WorkerFeed> feed, ViewerSink& sink);
  ~Viewer();
  Viewer(const Viewer&) = delete;
  Viewer& operator=(const Viewer&) = delete;

  // Attaches to the feed; from here on the sink may be called. Separate from
  // the constructor so the owner holds the Viewer before the first write.
  void start();
  // The sink finished the last write() (ok = false: the connection failed).
  void on_write_complete(bool ok);
  // Pausing stops delivery; resuming starts again at the newest keyframe.
  void set_paused(bool paused);

  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t skips() const { return skips_; }

 private:
  friend class WorkerFeed;
  friend class Hub;
class Hub;
  enum class State { kWaitingStart, kIdle, kWriting, kPaused, kDone };

  std::shared_ptr<WorkerFeed> feed_;
  ViewerSink& sink_;
  State state_ = State::kWaitingStart;
  bool attached_ = false;
  std::function<void()> on_destroy_;  // set by the hub (stream viewer count)
  bool started_ = false;        // on_start() was called
  bool seen_keyframe_ = false;  // video frames before the first keyframe are not sent
  uint64_t cursor_ = 0;         // sequence number of the next packet to send
  uint64_t batch_end_ = 0;      // cursor after the outstanding write
  std::optional<uint64_t> pinned_;  // ring entry pinned by the outstanding write
  int64_t write_started_ms_ = 0;
  // When the viewer last started at a keyframe (start, resume), and when the
  // first packet of the outstanding write entered the hub (-1: none): a
  // write's added latency is counted for packets that arrived while it
  // watched, not for the GOP cache replayed to it.
  int64_t joined_us_ = 0;
  int64_t batch_first_ingest_us_ = -1;
  // How long the last write took: the kernel accepting bytes slowly means
  // the viewer is behind by at least that much, whatever the cursor says
  // (data queued in socket buffers is invisible to the cursor).
  int64_t last_write_ms_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t skips_ = 0;
  uint32_t batch_bytes_ = 0;
  // Codec headers sent before the first packet; held so they outlive the write.
  std::vector<Packet> headers_in_flight_;
  std::array<boost::asio::const_buffer, kMaxBatchBuffers> buffers_;

 public:
  ViewerListHook all_hook_;
  ViewerListHook idle_hook_;
};

}  // namespace cascade::live
