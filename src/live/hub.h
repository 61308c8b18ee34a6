// Hub: the process-wide registry of live streams and the entry point for
// publishers and viewers. Knows no protocol and no socket.
//
// Threads: publish()/subscribe() are called on the caller's worker; the
// registry is guarded by a mutex taken per publish/subscribe/stats call,
// never per packet. Worker-local state (feeds by stream and format) is
// touched only by its own worker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "live/hub_config.h"
#include "live/packager.h"
#include "live/stream.h"
#include "live/stream_subscriber.h"
#include "live/viewer.h"

namespace cascade::live {

// A publisher's hold on its stream. Owned by the publishing connection;
// used on that connection's worker.
class Publication {
 public:
  Publication(Hub& hub, std::shared_ptr<Stream> stream, size_t worker, uint64_t generation);
  ~Publication();
  Publication(const Publication&) = delete;
  Publication& operator=(const Publication&) = delete;

  // `frame.dts` is ignored: the stream maps source_timestamp onto its timeline.
  void push(media::Frame frame, uint32_t source_timestamp);
  // The publisher stopped (unpublish or disconnect). Viewers stay for the
  // grace period, in case the publisher comes back.
  void end();
  const std::string& key() const { return stream_->key(); }
  // True if this publisher continues a stream whose previous publisher left.
  bool resumed() const { return resumed_; }

 private:
  template <typename F>
  void to_home(F&& call);

  Hub& hub_;
  std::shared_ptr<Stream> stream_;
  size_t worker_;
  uint64_t generation_;
  bool resumed_ = false;
  bool ended_ = false;
};

// Why Hub::publish refused a publisher.
enum class PublishRefusal {
  kInUse,          // another publisher holds the stream
  kMaxPublishers,  // HubConfig::max_publishers streams are being published
  kMaxStreams,     // HubConfig::max_streams streams exist
};

struct StreamStats {
  std::string key;
  bool publishing = false;
  int64_t viewers = 0;
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;
  uint64_t publisher_sessions = 0;
  int64_t uptime_ms = 0;
  StreamInfo info;
};

class Hub {
 public:
  Hub(HubConfig config, std::vector<OutputFormat> formats,
      std::vector<boost::asio::io_context*> workers,
      std::vector<StreamSubscriberFactory> subscribers = {});
  ~Hub();

  // Claims `key` ("app/stream") for a publisher on `worker`. Fails if another
  // publisher holds it, or a limit (max_publishers, max_streams) is reached:
  // then `refusal`, if given, says which. Existing streams are unaffected. A
  // publisher resuming its stream within the grace period needs no new
  // stream, only a publisher slot. `stop`, if given, disconnects this
  // publisher (see stop_publisher); it is called on any thread and must post
  // to the publisher's own worker.
  Result<std::unique_ptr<Publication>> publish(const std::string& key, size_t worker,
                                               PublishRefusal* refusal = nullptr,
                                               std::function<void()> stop = {});
  // Asks the publisher of `key` to disconnect (an operator's kick): its
  // viewers then see the stream end as after any publisher leaving (after
  // publish_grace_ms). False if nobody publishes `key` or the publisher
  // cannot be stopped. Any thread.
  bool stop_publisher(const std::string& key);
  // A viewer of `key` in `format` on `worker`, or nullptr if the stream is not
  // live. Call Viewer::start() once the result is stored.
  std::unique_ptr<Viewer> subscribe(const std::string& key, FormatId format, size_t worker,
                                    ViewerSink& sink);
  bool is_live(const std::string& key) const;

  std::optional<FormatId> find_format(std::string_view name) const;
  const OutputFormat& format(FormatId id) const { return formats_[id]; }
  size_t format_count() const { return formats_.size(); }
  boost::asio::io_context& worker(size_t index) { return *workers_[index]; }
  size_t worker_count() const { return workers_.size(); }
  const HubConfig& config() const { return config_; }
  std::vector<StreamStats> stats() const;

 private:
  friend class Publication;
  friend class Stream;
  struct Entry {
    std::shared_ptr<Stream> stream;
    bool publishing = false;
    uint64_t generation = 0;
    std::function<void()> stop;  // the current publisher's, while publishing
  };
  struct WorkerLocal {
    std::unordered_map<std::string, std::shared_ptr<WorkerFeed>> feeds;
  };

  void publisher_left(const std::shared_ptr<Stream>& stream, uint64_t generation);
  void expire(const std::shared_ptr<Stream>& stream, uint64_t generation);
  void feed_empty(WorkerFeed& feed, std::shared_ptr<Stream> stream, FormatId format, size_t worker,
                  const std::string& local_key);

  const HubConfig config_;
  const std::vector<OutputFormat> formats_;
  const std::vector<boost::asio::io_context*> workers_;
  const std::vector<StreamSubscriberFactory> subscriber_factories_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> streams_;
  size_t publishing_ = 0;  // entries with publishing set; under mutex_
  std::vector<WorkerLocal> locals_;
};

}  // namespace cascade::live
