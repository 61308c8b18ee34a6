// HlsRegistry: finds a live stream's HLS output by stream key, from any
// worker, and creates one for every new stream (as a hub StreamSubscriber).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "live/stream_subscriber.h"
#include "servers/hls/hls_settings.h"
#include "servers/hls/hls_stream.h"

namespace cascade::servers {

class HlsRegistry {
 public:
  HlsRegistry(HlsSettings settings, std::vector<boost::asio::io_context*> workers);

  // The hub calls this for every new stream.
  live::StreamSubscriberFactory subscriber_factory();

  // Any worker; nullptr if the stream has no HLS output (never published,
  // or ended more than linger_ms ago).
  std::shared_ptr<HlsStream> find(const std::string& key) const;

  // Config reload: streams created from now on use `settings`; live ones
  // keep theirs (HlsStream::settings()). Any thread.
  void set_settings(HlsSettings settings);
  HlsSettings settings() const;

 private:
  friend class HlsSubscriber;
  std::shared_ptr<HlsStream> create(const std::string& key);
  // Removes `stream` if it is still the one registered under its key.
  void remove(const HlsStream& stream);

  const std::vector<boost::asio::io_context*> workers_;
  mutable std::mutex mutex_;  // settings_, streams_, created_
  HlsSettings settings_;
  std::unordered_map<std::string, std::shared_ptr<HlsStream>> streams_;
  uint64_t created_ = 0;
};

}  // namespace cascade::servers
