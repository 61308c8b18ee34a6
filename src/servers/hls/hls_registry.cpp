#include "servers/hls/hls_registry.h"

#include <fmt/format.h>

#include <chrono>

#include "servers/hls/hls_subscriber.h"

namespace cascade::servers {

HlsRegistry::HlsRegistry(HlsSettings settings, std::vector<boost::asio::io_context*> workers)
    : workers_(std::move(workers)), settings_(std::move(settings)) {}

void HlsRegistry::set_settings(HlsSettings settings) {
  std::lock_guard lock(mutex_);
  settings_ = std::move(settings);
}

HlsSettings HlsRegistry::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

live::StreamSubscriberFactory HlsRegistry::subscriber_factory() {
  return [this](const std::string& key,
                size_t home_worker) -> std::unique_ptr<live::StreamSubscriber> {
    return std::make_unique<HlsSubscriber>(*this, create(key), *workers_[home_worker]);
  };
}

std::shared_ptr<HlsStream> HlsRegistry::create(const std::string& key) {
  std::lock_guard lock(mutex_);
  // The epoch names this life of the stream in its media URLs: Unix ms and a
  // process-wide count, so no two lives share a URL.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string epoch = fmt::format("{:x}{:x}", now_ms, ++created_ & 0xFFFF);
  auto stream = std::make_shared<HlsStream>(key, std::move(epoch), settings_);
  streams_[key] = stream;
  return stream;
}

std::shared_ptr<HlsStream> HlsRegistry::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(key);
  return it == streams_.end() ? nullptr : it->second;
}

void HlsRegistry::remove(const HlsStream& stream) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream.key());
  if (it != streams_.end() && it->second.get() == &stream) streams_.erase(it);
}

}  // namespace cascade::servers
