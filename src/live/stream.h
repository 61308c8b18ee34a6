// Stream: one live stream on its home worker. Normalizes the publisher's
// timestamps, keeps codec headers and the GOP cache, runs exactly one
// packager per format that has viewers, and relays each packet once to every
// worker feed of that format.
//
// Contract: member functions marked "home" run on the home worker only (the
// hub posts to it); counters and info() may be read from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "live/packager.h"
#include "live/packet.h"
#include "live/stream_info.h"
#include "live/stream_subscriber.h"
#include "live/timeline.h"
#include "live/worker_feed.h"
#include "media/frame.h"

namespace cascade::live {

class Hub;

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  Stream(Hub& hub, std::string key, size_t home_worker,
         std::vector<std::unique_ptr<StreamSubscriber>> subscribers = {});

  const std::string& key() const { return key_; }
  size_t home_worker() const { return home_; }

  // home
  void begin_publisher_session(uint64_t generation);
  void publisher_left(uint64_t generation);
  void on_frame(media::Frame frame, uint32_t source_timestamp);
  void attach(FormatId format, std::shared_ptr<WorkerFeed> feed, size_t worker);
  void detach(FormatId format, const WorkerFeed* feed);
  void finish();

  // any thread
  StreamInfo info() const;
  std::atomic<int64_t> viewers{0};
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> publisher_sessions{0};
  const int64_t created_ms;

 private:
  struct FeedRef {
    std::shared_ptr<WorkerFeed> feed;
    size_t worker;
  };
  struct Output {
    std::unique_ptr<Packager> packager;
    std::vector<Packet> headers;  // metadata, video config, audio config
    std::vector<Packet> gop;      // since the newest keyframe
    std::vector<FeedRef> feeds;
  };

  Packet package(Output& output, const media::Frame& frame);
  void package_headers(Output& output);
  bool is_join_point(const media::Frame& frame) const;
  template <typename F>
  void to_feed(const FeedRef& ref, F&& call);

  Hub& hub_;
  const std::string key_;
  const size_t home_;
  Timeline timeline_;
  uint64_t generation_ = 0;
  bool finished_ = false;
  bool has_video_ = false;
  std::optional<media::Frame> metadata_;
  std::optional<media::Frame> video_config_;
  std::optional<media::Frame> audio_config_;
  std::vector<media::Frame> gop_frames_;
  uint64_t gop_bytes_ = 0;
  bool gop_valid_ = false;  // gop_frames_ starts at a keyframe
  std::vector<Output> outputs_;
  std::vector<std::unique_ptr<StreamSubscriber>> subscribers_;
  boost::asio::steady_timer grace_timer_;

  mutable std::mutex info_mutex_;
  StreamInfo info_;
};

}  // namespace cascade::live
