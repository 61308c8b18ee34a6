#include "servers/hls/hls_subscriber.h"

#include <chrono>

#include "core/log.h"
#include "core/metrics.h"
#include "servers/hls/hls_registry.h"

namespace cascade::servers {

namespace {

spdlog::logger& logger() {
  return log::get("hls");
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

HlsSubscriber::HlsSubscriber(HlsRegistry& registry, std::shared_ptr<HlsStream> stream,
                             boost::asio::io_context& home)
    : registry_(registry),
      stream_(std::move(stream)),
      home_(home),
      segmenter_(stream_->settings().segmenter, *stream_) {}

void HlsSubscriber::warn_once(bool& warned, const std::string& what) {
  if (warned) return;
  warned = true;
  logger().warn("[{}] {}", stream_->key(), what);
}

void HlsSubscriber::on_publisher_session() {
  segmenter_.begin_session();
}

void HlsSubscriber::update_tracks() {
  if (tracks_.video || tracks_.audio) segmenter_.set_tracks(tracks_);
}

void HlsSubscriber::on_frame(const media::Frame& frame) {
  static Counter& bad_samples = Metrics::global().counter("cascade_hls_bad_samples_total");
  if (frame.kind == media::TrackKind::kData) return;
  if (frame.config) {
    if (frame.kind == media::TrackKind::kVideo) {
      auto config = media::video_config_from_frame(frame);
      if (!config) {
        warn_once(video_warned_, "HLS without video: " + config.error().message);
        return;
      }
      tracks_.video = std::move(config.value());
    } else {
      auto config = media::audio_config_from_frame(frame);
      if (!config) {
        warn_once(audio_warned_, "HLS without audio: " + config.error().message);
        return;
      }
      tracks_.audio = std::move(config.value());
    }
    update_tracks();
    return;
  }
  if (frame.kind == media::TrackKind::kAudio && !tracks_.audio && media::is_mp3_frame(frame)) {
    // MP3 has no sequence header: its first frame describes the track.
    if (auto config = media::audio_config_from_frame(frame)) {
      tracks_.audio = std::move(config.value());
      update_tracks();
    } else {
      warn_once(audio_warned_, "HLS without audio: " + config.error().message);
    }
  }
  auto sample = media::av_sample_from_frame(frame);
  if (!sample) {
    bad_samples.inc();
    warn_once(sample_warned_, "HLS dropped a malformed frame: " + sample.error().message);
    return;
  }
  if (!sample->has_value()) return;
  segmenter_.push(**sample, unix_now_ms());
  if (segmenter_.forced_cuts() > forced_cuts_logged_) {
    forced_cuts_logged_ = segmenter_.forced_cuts();
    logger().warn(
        "[{}] keyframe interval exceeds the {} s target duration: segment cut at a non-keyframe "
        "({} so far); set the encoder's GOP at most hls.segment_target_ms",
        stream_->key(), segmenter_.target_duration_s(), forced_cuts_logged_);
  }
}

void HlsSubscriber::on_finish() {
  segmenter_.flush();
  stream_->end();
  if (segmenter_.dropped_samples() > 0) {
    logger().info("[{}] HLS ended; {} samples dropped (before a keyframe or malformed)",
                  stream_->key(), segmenter_.dropped_samples());
  }
  // Playlists (with EXT-X-ENDLIST) and segments stay for linger_ms, then the
  // registry forgets the stream, unless a new life has replaced it already.
  auto timer = std::make_shared<boost::asio::steady_timer>(
      home_, std::chrono::milliseconds(stream_->settings().linger_ms));
  timer->async_wait([timer, &registry = registry_, stream = stream_](boost::system::error_code) {
    registry.remove(*stream);
  });
}

}  // namespace cascade::servers
