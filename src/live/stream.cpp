#include "live/stream.h"

#include <boost/asio/post.hpp>

#include "core/log.h"
#include "live/hub.h"

namespace cascade::live {

Stream::Stream(Hub& hub, std::string key, size_t home_worker,
               std::vector<std::unique_ptr<StreamSubscriber>> subscribers)
    : created_ms(steady_now_ms()),
      hub_(hub),
      key_(std::move(key)),
      home_(home_worker),
      outputs_(hub.format_count()),
      subscribers_(std::move(subscribers)),
      grace_timer_(hub.worker(home_worker)) {
  info_.key = key_;
}

StreamInfo Stream::info() const {
  std::lock_guard lock(info_mutex_);
  return info_;
}

template <typename F>
void Stream::to_feed(const FeedRef& ref, F&& call) {
  if (ref.worker == home_) {
    call(*ref.feed);
  } else {
    boost::asio::post(hub_.worker(ref.worker),
                      [feed = ref.feed, call = std::forward<F>(call)]() mutable { call(*feed); });
  }
}

void Stream::begin_publisher_session(uint64_t generation) {
  generation_ = generation;
  grace_timer_.cancel();
  timeline_.begin_session();
  publisher_sessions.fetch_add(1, std::memory_order_relaxed);
  for (auto& subscriber : subscribers_) subscriber->on_publisher_session();
}

void Stream::publisher_left(uint64_t generation) {
  if (generation != generation_ || finished_) return;
  grace_timer_.expires_after(std::chrono::milliseconds(hub_.config().publish_grace_ms));
  grace_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (!ec) self->hub_.expire(self, generation);
  });
}

bool Stream::is_join_point(const media::Frame& frame) const {
  if (frame.config) return false;
  if (frame.kind == media::TrackKind::kVideo) return frame.keyframe;
  return frame.kind == media::TrackKind::kAudio && !has_video_;
}

Packet Stream::package(Output& output, const media::Frame& frame) {
  return Packet{output.packager->package(frame),
                frame.dts,
                frame.kind,
                frame.keyframe,
                frame.config,
                is_join_point(frame),
                steady_now_us()};
}

void Stream::package_headers(Output& output) {
  output.headers.clear();
  for (const auto* frame : {&metadata_, &video_config_, &audio_config_}) {
    if (*frame) output.headers.push_back(package(output, **frame));
  }
}

void Stream::on_frame(media::Frame frame, uint32_t source_timestamp) {
  if (finished_) return;
  frame.dts = timeline_.map(frame.kind, source_timestamp);
  frames_in.fetch_add(1, std::memory_order_relaxed);
  bytes_in.fetch_add(frame.payload.size(), std::memory_order_relaxed);
  if (frame.kind == media::TrackKind::kVideo) has_video_ = true;

  bool new_gop = frame.kind == media::TrackKind::kVideo && frame.keyframe && !frame.config;
  if (frame.config) {
    if (frame.kind == media::TrackKind::kData) metadata_ = frame;
    if (frame.kind == media::TrackKind::kVideo) video_config_ = frame;
    if (frame.kind == media::TrackKind::kAudio) audio_config_ = frame;
  }
  if (frame.kind != media::TrackKind::kData) {
    std::lock_guard lock(info_mutex_);
    update_stream_info(info_, frame);
  }

  // GOP cache (home copy, as frames): from the newest keyframe, bounded.
  if (hub_.config().gop_cache && !frame.config) {
    if (new_gop) {
      gop_frames_.clear();
      gop_bytes_ = 0;
      gop_valid_ = true;
    }
    if (gop_valid_ && has_video_) {
      gop_frames_.push_back(frame);
      gop_bytes_ += frame.payload.size();
      if (gop_bytes_ > hub_.config().gop_cache_max_bytes) {
        gop_frames_.clear();
        gop_bytes_ = 0;
        gop_valid_ = false;  // new viewers wait for the next keyframe
      }
    }
  }

  for (auto& subscriber : subscribers_) subscriber->on_frame(frame);

  StreamInfo info_copy;
  if (frame.config) info_copy = info();
  for (Output& output : outputs_) {
    if (!output.packager) continue;
    Packet packet = package(output, frame);
    if (frame.config) {
      package_headers(output);
      for (const FeedRef& ref : output.feeds) {
        to_feed(ref, [info_copy, headers = output.headers](WorkerFeed& feed) mutable {
          feed.set_headers(std::move(info_copy), std::move(headers));
        });
      }
    } else if (hub_.config().gop_cache) {
      if (new_gop) output.gop.clear();
      if (gop_valid_ && has_video_) {
        output.gop.push_back(packet);
      } else {
        output.gop.clear();
      }
    }
    for (const FeedRef& ref : output.feeds) {
      to_feed(ref, [packet](WorkerFeed& feed) mutable { feed.push(std::move(packet)); });
    }
  }
}

void Stream::attach(FormatId format, std::shared_ptr<WorkerFeed> feed, size_t worker) {
  FeedRef ref{std::move(feed), worker};
  if (finished_) {
    to_feed(ref, [](WorkerFeed& f) { f.end(); });
    return;
  }
  Output& output = outputs_[format];
  if (!output.packager) {
    // First consumer of this format: start its one packager, from the cache.
    output.packager = hub_.format(format).make_packager();
    package_headers(output);
    output.gop.clear();
    for (const media::Frame& frame : gop_frames_) output.gop.push_back(package(output, frame));
  }
  output.feeds.push_back(ref);
  to_feed(ref, [info = info(), headers = output.headers, gop = output.gop](WorkerFeed& f) mutable {
    f.prime(std::move(info), std::move(headers), std::move(gop));
  });
}

void Stream::detach(FormatId format, const WorkerFeed* feed) {
  Output& output = outputs_[format];
  std::erase_if(output.feeds, [feed](const FeedRef& ref) { return ref.feed.get() == feed; });
  if (output.feeds.empty()) output = Output{};
}

void Stream::finish() {
  if (finished_) return;
  finished_ = true;
  grace_timer_.cancel();
  for (Output& output : outputs_) {
    for (const FeedRef& ref : output.feeds) to_feed(ref, [](WorkerFeed& f) { f.end(); });
    output = Output{};
  }
  gop_frames_.clear();
  for (auto& subscriber : subscribers_) subscriber->on_finish();
  log::get("hub").info("[{}] stream ended", key_);
}

}  // namespace cascade::live
