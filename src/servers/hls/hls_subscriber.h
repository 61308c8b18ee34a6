// HlsSubscriber: the hub side of a stream's HLS output. Turns frames into
// samples and track configs, drives the stream's Segmenter, and hands the
// output to its HlsStream. Runs on the stream's home worker.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "live/stream_subscriber.h"
#include "protocols/hls/segmenter.h"
#include "servers/hls/hls_stream.h"

namespace cascade::servers {

class HlsRegistry;

class HlsSubscriber final : public live::StreamSubscriber {
 public:
  HlsSubscriber(HlsRegistry& registry, std::shared_ptr<HlsStream> stream,
                boost::asio::io_context& home);

  void on_publisher_session() override;
  void on_frame(const media::Frame& frame) override;
  void on_finish() override;

 private:
  void update_tracks();
  void warn_once(bool& warned, const std::string& what);

  HlsRegistry& registry_;
  std::shared_ptr<HlsStream> stream_;
  boost::asio::io_context& home_;
  hls::Segmenter segmenter_;
  media::TrackSet tracks_;
  bool video_warned_ = false;
  bool audio_warned_ = false;
  bool sample_warned_ = false;
  uint64_t forced_cuts_logged_ = 0;
};

}  // namespace cascade::servers
