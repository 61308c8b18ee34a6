#include "live/hub.h"

#include <boost/asio/post.hpp>

#include "core/log.h"
#include "core/metrics.h"

namespace cascade::live {

Publication::Publication(Hub& hub, std::shared_ptr<Stream> stream, size_t worker,
                         uint64_t generation)
    : hub_(hub), stream_(std::move(stream)), worker_(worker), generation_(generation) {
  resumed_ = stream_->publisher_sessions.load() > 0 || generation > 1;
  to_home([generation](Stream& s) { s.begin_publisher_session(generation); });
}

Publication::~Publication() {
  end();
}

template <typename F>
void Publication::to_home(F&& call) {
  // Always the same path for one publisher, so its calls stay in order.
  if (worker_ == stream_->home_worker()) {
    call(*stream_);
  } else {
    boost::asio::post(
        hub_.worker(stream_->home_worker()),
        [stream = stream_, call = std::forward<F>(call)]() mutable { call(*stream); });
  }
}

void Publication::push(media::Frame frame, uint32_t source_timestamp) {
  if (ended_) return;
  to_home([frame = std::move(frame), source_timestamp](Stream& s) mutable {
    s.on_frame(std::move(frame), source_timestamp);
  });
}

void Publication::end() {
  if (ended_) return;
  ended_ = true;
  hub_.publisher_left(stream_, generation_);
  to_home([generation = generation_](Stream& s) { s.publisher_left(generation); });
}

Hub::Hub(HubConfig config, std::vector<OutputFormat> formats,
         std::vector<boost::asio::io_context*> workers,
         std::vector<StreamSubscriberFactory> subscribers)
    : config_(config),
      formats_(std::move(formats)),
      workers_(std::move(workers)),
      subscriber_factories_(std::move(subscribers)),
      locals_(workers_.size()) {}

Hub::~Hub() = default;

std::optional<FormatId> Hub::find_format(std::string_view name) const {
  for (FormatId id = 0; id < formats_.size(); ++id) {
    if (formats_[id].name == name) return id;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Publication>> Hub::publish(const std::string& key, size_t worker,
                                                  PublishRefusal* refusal,
                                                  std::function<void()> stop) {
  std::shared_ptr<Stream> stream;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = streams_.find(key);
    auto refuse = [&](PublishRefusal why, Error error) {
      if (refusal) *refusal = why;
      static Counter& max_publishers =
          Metrics::global().counter("cascade_publish_refused_total{reason=\"max_publishers\"}");
      static Counter& max_streams =
          Metrics::global().counter("cascade_publish_refused_total{reason=\"max_streams\"}");
      if (why == PublishRefusal::kMaxPublishers) max_publishers.inc();
      if (why == PublishRefusal::kMaxStreams) max_streams.inc();
      return error;
    };
    if (found != streams_.end() && found->second.publishing) {
      return refuse(PublishRefusal::kInUse,
                    make_error("stream {} is already being published", key));
    }
    if (config_.max_publishers > 0 && publishing_ >= config_.max_publishers) {
      return refuse(
          PublishRefusal::kMaxPublishers,
          make_error("the server's limit of {} publishers is reached", config_.max_publishers));
    }
    if (found == streams_.end() && config_.max_streams > 0 &&
        streams_.size() >= config_.max_streams) {
      return refuse(PublishRefusal::kMaxStreams,
                    make_error("the server's limit of {} streams is reached", config_.max_streams));
    }
    Entry& entry = found != streams_.end() ? found->second : streams_[key];
    if (!entry.stream) {
      std::vector<std::unique_ptr<StreamSubscriber>> subscribers;
      for (const auto& factory : subscriber_factories_) {
        if (auto subscriber = factory(key, worker)) subscribers.push_back(std::move(subscriber));
      }
      entry.stream = std::make_shared<Stream>(*this, key, worker, std::move(subscribers));
    }
    entry.publishing = true;
    ++publishing_;
    entry.stop = std::move(stop);
    generation = ++entry.generation;
    stream = entry.stream;
  }
  return std::make_unique<Publication>(*this, std::move(stream), worker, generation);
}

void Hub::publisher_left(const std::shared_ptr<Stream>& stream, uint64_t generation) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream->key());
  if (it != streams_.end() && it->second.stream == stream && it->second.generation == generation &&
      it->second.publishing) {
    it->second.publishing = false;
    --publishing_;
    it->second.stop = nullptr;
  }
}

bool Hub::stop_publisher(const std::string& key) {
  std::function<void()> stop;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(key);
    if (it == streams_.end() || !it->second.publishing || !it->second.stop) return false;
    stop = it->second.stop;
  }
  stop();
  return true;
}

void Hub::expire(const std::shared_ptr<Stream>& stream, uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream->key());
    if (it == streams_.end() || it->second.stream != stream) return;
    if (it->second.publishing || it->second.generation != generation) return;
    streams_.erase(it);
  }
  stream->finish();  // on the home worker: expire() runs from its grace timer
}

bool Hub::is_live(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return streams_.count(key) > 0;
}

std::unique_ptr<Viewer> Hub::subscribe(const std::string& key, FormatId format, size_t worker,
                                       ViewerSink& sink) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(key);
    if (it == streams_.end()) return nullptr;
    stream = it->second.stream;
  }
  std::string local_key = std::to_string(format) + '/' + key;
  auto& feeds = locals_[worker].feeds;
  auto found = feeds.find(local_key);
  std::shared_ptr<WorkerFeed> feed;
  if (found != feeds.end() && !found->second->ended()) {
    feed = found->second;
  } else {
    // The stream holds its feeds (attach): the feed's callback holds the
    // stream weakly, or the two would keep each other alive.
    std::weak_ptr<Stream> weak_stream = stream;
    feed = std::make_shared<WorkerFeed>(
        *workers_[worker], config_, key,
        [this, weak_stream, format, worker, local_key](WorkerFeed& f) {
          feed_empty(f, weak_stream.lock(), format, worker, local_key);
        });
    feeds[local_key] = feed;
    boost::asio::post(*workers_[stream->home_worker()],
                      [stream, format, feed, worker] { stream->attach(format, feed, worker); });
  }
  stream->viewers.fetch_add(1, std::memory_order_relaxed);
  auto viewer = std::make_unique<Viewer>(feed, sink);
  viewer->on_destroy_ = [stream] { stream->viewers.fetch_sub(1, std::memory_order_relaxed); };
  return viewer;
}

void Hub::feed_empty(WorkerFeed& feed, std::shared_ptr<Stream> stream, FormatId format,
                     size_t worker, const std::string& local_key) {
  auto& feeds = locals_[worker].feeds;
  auto it = feeds.find(local_key);
  if (it != feeds.end() && it->second.get() == &feed) feeds.erase(it);
  if (feed.ended() || !stream) return;  // no stream: nothing holds the feed
  const WorkerFeed* raw = &feed;
  boost::asio::post(*workers_[stream->home_worker()],
                    [stream, format, raw] { stream->detach(format, raw); });
}

std::vector<StreamStats> Hub::stats() const {
  std::vector<std::pair<std::shared_ptr<Stream>, bool>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : streams_) live.emplace_back(entry.stream, entry.publishing);
  }
  std::vector<StreamStats> out;
  int64_t now = steady_now_ms();
  for (const auto& [stream, publishing] : live) {
    out.push_back(StreamStats{stream->key(), publishing, stream->viewers.load(),
                              stream->frames_in.load(), stream->bytes_in.load(),
                              stream->publisher_sessions.load(), now - stream->created_ms,
                              stream->info()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

}  // namespace cascade::live
