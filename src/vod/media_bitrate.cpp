#include "vod/media_bitrate.h"

#include <cmath>
#include <numeric>

#include "vod/mime_type.h"

namespace cascade::vod {
namespace {

// Shorter than this, a duration says too little to pace by.
constexpr double kMinDurationS = 0.5;

std::optional<uint64_t> bitrate(uint64_t bytes, double duration_s) {
  if (bytes == 0 || !std::isfinite(duration_s) || duration_s < kMinDurationS) return std::nullopt;
  const double bits_per_s = static_cast<double>(bytes) * 8 / duration_s;
  return static_cast<uint64_t>(std::max(1.0, bits_per_s));
}

}  // namespace

std::optional<uint64_t> mp4_bitrate_bits_per_s(const media::Mp4Index& index) {
  uint64_t bytes = 0;
  double duration_s = 0;
  for (const media::Mp4Track& track : index.tracks) {
    bytes = std::accumulate(track.sample_sizes.begin(), track.sample_sizes.end(), bytes);
    if (track.timescale > 0) {
      duration_s = std::max(duration_s, static_cast<double>(track.media_duration) /
                                            static_cast<double>(track.timescale));
    }
  }
  // mvhd's duration is the presentation's (edit lists included); the
  // longest track's media when mvhd has none.
  if (index.movie_timescale > 0 && index.movie_duration > 0) {
    duration_s =
        static_cast<double>(index.movie_duration) / static_cast<double>(index.movie_timescale);
  }
  return bitrate(bytes, duration_s);
}

std::optional<uint64_t> flv_bitrate_bits_per_s(const flv::FlvKeyframeIndex& index) {
  if (index.file_size <= index.first_tag_offset) return std::nullopt;
  return bitrate(index.file_size - index.first_tag_offset,
                 static_cast<double>(index.duration_ms) / 1000);
}

std::optional<uint64_t> media_bitrate_bits_per_s(const OpenedFile& file,
                                                 std::string_view relative_path,
                                                 VodCaches& caches) {
  const std::string_view type = mime_type_for(relative_path);
  const FileIdentity id = identity_of(file);
  if (is_mp4_family(relative_path)) {
    auto index = caches.mp4_indexes.get(file.fd, id);
    if (!index) return std::nullopt;
    return mp4_bitrate_bits_per_s(*index.value());
  }
  if (type == "video/x-flv") {
    auto index = caches.flv_indexes.get(file.fd, id);
    if (!index) return std::nullopt;
    return flv_bitrate_bits_per_s(*index.value());
  }
  return std::nullopt;
}

}  // namespace cascade::vod
