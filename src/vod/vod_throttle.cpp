#include "vod/vod_throttle.h"

#include <chrono>

#include "core/metrics.h"
#include "vod/media_bitrate.h"
#include "vod/throttle_override.h"

namespace cascade::vod {

Result<std::optional<double>> requested_rate_override(const VodSettings& settings,
                                                      std::string_view url_path,
                                                      std::string_view query) {
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  return verify_throttle_override(url_path, query, settings.throttle_secret, now_s);
}

std::optional<TokenBucket> make_response_pacer(const VodFileRequest& r,
                                               std::optional<double> rate_override,
                                               VodCaches& caches) {
  if (r.is_head()) return std::nullopt;
  const double factor =
      rate_override ? *rate_override : (r.settings.throttle ? r.settings.throttle_factor : 0.0);
  if (factor <= 0) return std::nullopt;
  const std::optional<uint64_t> bitrate = media_bitrate_bits_per_s(r.file, r.relative_path, caches);
  if (!bitrate) return std::nullopt;
  static Counter& paced = Metrics::global().counter("cascade_vod_paced_responses_total");
  paced.inc();
  return make_media_pacer(*bitrate, factor, r.settings.throttle_burst_s, TokenBucket::Clock::now());
}

}  // namespace cascade::vod
