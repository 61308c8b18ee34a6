// What the VOD throttle paces at: a media file's bitrate, bits of file per
// second of media. One function for every container:
// - MP4 family (.mp4 .m4v .m4a .mov .3gp): the sample bytes of every track
//   over the movie's duration, from the parsed index (mp4_index_cache.h);
// - FLV: the bytes after the file header over the largest tag timestamp,
//   from the keyframe index (flv_index_cache.h, media/flv_keyframe_index.h).
// Anything else (images, text, MPEG-TS, WebM, ...), a fragmented MP4 (no
// sample tables), a file that cannot be indexed, or one under half a
// second long has no known bitrate and is never throttled.
//
// A cache miss parses the file on the calling thread (pread), once per file
// version; the indexes are the ones seeks use.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "media/flv_keyframe_index.h"
#include "media/mp4_index.h"
#include "vod/vod_caches.h"
#include "vod/vod_path.h"

namespace cascade::vod {

std::optional<uint64_t> media_bitrate_bits_per_s(const OpenedFile& file,
                                                 std::string_view relative_path, VodCaches& caches);

// The parts, for tests: bitrates of parsed indexes.
std::optional<uint64_t> mp4_bitrate_bits_per_s(const media::Mp4Index& index);
std::optional<uint64_t> flv_bitrate_bits_per_s(const flv::FlvKeyframeIndex& index);

}  // namespace cascade::vod
