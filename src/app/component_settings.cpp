#include "app/component_settings.h"

#include <fmt/format.h>

namespace cascade::app {

live::HubConfig hub_config(const Config& config) {
  live::HubConfig hub;
  hub.publish_grace_ms = config.live.publish_grace_ms;
  hub.gop_cache = config.live.gop_cache;
  hub.gop_cache_max_bytes = uint64_t(config.live.gop_cache_max_mib) << 20;
  hub.lag_skip_ms = config.live.lag_skip_ms;
  hub.lag_close_ms = config.live.lag_close_ms;
  hub.coalesce_ms = config.live.coalesce_ms;
  hub.max_publishers = config.limits.max_publishers;
  hub.max_streams = config.limits.max_streams;
  return hub;
}

servers::HlsSettings hls_settings(const Config& config) {
  servers::HlsSettings hls;
  hls.segmenter.segment_target_ms = config.hls.segment_target_ms;
  hls.segmenter.part_target_ms = config.hls.part_target_ms;
  hls.window_segments = config.hls.window_segments;
  hls.low_latency = config.hls.low_latency;
  hls.dvr_window_s = config.hls.dvr_window_s;
  hls.dvr_max_bytes = uint64_t(config.hls.dvr_max_mib) << 20;
  hls.linger_ms = config.hls.linger_ms;
  hls.cors_origin = config.http.cors_origin;
  return hls;
}

access::AccessSettings access_settings(const Config& config) {
  access::AccessSettings a;
  for (const auto& [app, keys] : config.access.publish_keys) a.publish_keys[app] = keys;
  a.play_secret = config.access.play_secret;
  a.play_require_signature = config.access.play_require_signature;
  a.on_connect = config.access.on_connect;
  a.on_publish = config.access.on_publish;
  a.on_play = config.access.on_play;
  a.on_done = config.access.on_done;
  a.webhook_timeout_ms = config.access.webhook_timeout_ms;
  a.webhook_cache_ttl_ms = config.access.webhook_cache_ttl_ms;
  a.webhook_cache_entries = config.access.webhook_cache_entries;
  return a;
}

vod::VodSettings vod_settings(const Config::VodRootSettings& config, const std::string& prefix,
                              const std::string& path) {
  vod::VodSettings vod;
  vod.root = path;
  vod.prefix = prefix;
  vod.stall_timeout_ms = config.stall_timeout_ms;
  vod.cache_control = fmt::format("public, max-age={}", config.cache_max_age_s);
  vod.hls_segment_target_ms = int64_t{config.hls_segment_s} * 1000;
  vod.list_directories = config.list_directories;
  vod.throttle = config.throttle;
  vod.throttle_burst_s = config.throttle_burst_s;
  vod.throttle_factor = config.throttle_factor;
  vod.throttle_secret = config.throttle_secret;
  vod.flv_start_unit =
      config.flv_start_unit == "seconds" ? vod::FlvStartUnit::kSeconds : vod::FlvStartUnit::kBytes;
  return vod;
}

std::shared_ptr<const servers::RtmpServerConfig> rtmp_server_config(const Config& config) {
  auto rc = std::make_shared<servers::RtmpServerConfig>();
  rc->session.out_chunk_size = config.rtmp.chunk_size;
  rc->session.window_ack_size = config.rtmp.window_ack_size;
  rc->session.peer_bandwidth = config.rtmp.peer_bandwidth;
  rc->session.limits.max_message_size = config.rtmp.max_message_size;
  rc->session.limits.max_pending_bytes = uint64_t(config.rtmp.max_message_size) * 4;
  rc->handshake_timeout_ms = config.rtmp.handshake_timeout_ms;
  rc->publisher_idle_timeout_ms = config.rtmp.publisher_idle_timeout_ms;
  rc->setup_timeout_ms = config.limits.rtmp_setup_timeout_ms;
  return rc;
}

net::HttpLimits http_limits(const Config& config) {
  net::HttpLimits limits;
  limits.max_header_bytes = config.http.max_header_bytes;
  limits.request_timeout_ms = config.http.request_timeout_ms;
  limits.idle_timeout_ms = config.http.idle_timeout_ms;
  limits.cors_origin = config.http.cors_origin;
  limits.stream_send_buffer_bytes = config.server.send_buffer_bytes;
  return limits;
}

}  // namespace cascade::app
