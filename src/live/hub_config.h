// Tunables of the fan-out hub; see conf/cascade.toml [live] for their meaning.
#pragma once

#include <cstdint>

namespace cascade::live {

struct HubConfig {
  // A publisher that drops may reconnect within this time and continue the
  // same stream; its viewers stay connected.
  uint32_t publish_grace_ms = 5000;
  // Keep frames since the last keyframe so viewers start at once, bounded.
  bool gop_cache = true;
  uint64_t gop_cache_max_bytes = 64ull << 20;
  // A viewer this far behind the newest frame skips to the newest keyframe.
  uint32_t lag_skip_ms = 3000;
  // A viewer this far behind, or whose write has not finished in this
  // time, is closed.
  uint32_t lag_close_ms = 10000;
  // Wake idle viewers at most this often (0: on every packet). Fewer, larger
  // writes per viewer trade a little latency for much less CPU.
  uint32_t coalesce_ms = 0;
  // At most this many packets / bytes per viewer write (the packet count is
  // also capped by Viewer::kMaxBatchBuffers).
  uint32_t max_batch_packets = 32;
  uint32_t max_batch_bytes = 256 * 1024;
  // At most this many streams being published at once (0: unlimited).
  uint32_t max_publishers = 0;
  // At most this many streams in the registry (0: unlimited), counting those
  // whose publisher left and that wait out publish_grace_ms for it.
  uint32_t max_streams = 0;
};

}  // namespace cascade::live
