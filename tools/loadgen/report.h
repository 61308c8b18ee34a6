// The end-of-run summary: per-viewer results in, one JSON document out.
//
// JSON keys are stable (a benchmark script parses them); see README.md and
// kJsonSchemaDoc below, which --help prints. Percentiles are nearest-rank;
// a statistic with no sample is null.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/histograms.h"

namespace cascade::loadgen {

// An HLS viewer's counters (hls_play_session.h); all zero for other modes.
struct HlsCounters {
  uint64_t requests = 0;
  uint64_t playlist_requests = 0;
  uint64_t blocking_requests = 0;
  uint64_t media_requests = 0;  // parts, segments and init sections
  uint64_t parts = 0, segments = 0, init_sections = 0;
  uint64_t media_bytes = 0;          // their bodies
  uint32_t http_errors = 0;          // non-200 answers after the start
  uint32_t gaps = 0;                 // resynchronizations: the next item had left the playlist
  uint32_t unsatisfied_reloads = 0;  // blocking reloads answered without what they asked for
  uint32_t stalls = 0;  // items later than their duration + the slack after the previous
  uint32_t reconnects = 0;
  int64_t max_late_ms = 0;        // largest (inter-arrival - duration) over items
  int64_t media_received_us = 0;  // durations of the parts/segments received
};

// What one viewer ended with (filled by the worker when the run stops).
struct ViewerResult {
  bool slow = false;
  bool connected = false;         // reached play start
  bool failed = false;            // never reached play start
  bool corrupt = false;           // structural error, or first video frame not a keyframe
  bool closed_by_server = false;  // connected, then the server closed it before the end
  bool missing_sequence_header = false;
  int64_t connect_start_us = 0;
  int64_t first_video_us = -1;
  int64_t first_audio_us = -1;
  int64_t end_us = 0;  // disconnect, or the end of the run
  uint32_t video_frames = 0;
  uint32_t audio_frames = 0;
  uint32_t ts_violations = 0;
  uint64_t bytes = 0;
  std::optional<int64_t> lag_p95_ms;  // this viewer's drift percentiles
  std::optional<int64_t> lag_max_ms;
  std::string reason;  // why it ended early (failed, corrupt, closed), else empty
  // HLS: first_video_us is the arrival of the first part or segment.
  HlsCounters hls;
};

struct Percentiles {
  std::optional<double> p50, p95, p99, max;
};

struct GroupSummary {
  uint64_t viewers = 0, connected = 0, failed = 0, corrupt = 0, closed_by_server = 0;
  uint64_t bytes = 0, video_frames = 0, audio_frames = 0, ts_violations = 0;
  uint64_t missing_sequence_header = 0;
  double mbit_s = 0;
  Percentiles ttff_ms;
  std::optional<double> healthy_fraction;
  Percentiles lag_ms;
};

struct RunInfo {
  std::string mode, url;
  uint32_t viewers = 0, threads = 0;
  double ramp_per_s = 0;
  double duration_s = 0;  // whole run
  double window_s = 0;    // full-load measurement window
  uint64_t window_bytes_regular = 0, window_bytes_slow = 0;
  std::optional<double> fps_option;
  DeltaHistogram video_deltas, audio_deltas;  // regular viewers, merged
  uint64_t nofile_limit = 0;
  double cpu_user_s = 0, cpu_system_s = 0;
  // HLS runs.
  std::string hls_playlist;  // --hls-playlist
  uint32_t stall_slack_ms = 0;
  std::vector<double> hls_latency_ms;  // blocking reloads that blocked (all threads)
};

struct HlsSummary {
  HlsCounters totals;  // sums over all viewers (max_late_ms: the largest)
  uint64_t viewers_with_stalls = 0;
  uint64_t blocked_reloads = 0;  // latency samples
  double requests_per_s = 0;     // requests / duration_s
  std::optional<double> latency_p50, latency_p95, latency_p99, latency_max;
};

struct Summary {
  RunInfo run;
  std::string primary_track;  // "video", "audio" or "none"
  std::optional<double> expected_fps;
  std::string fps_source;  // "option", "estimated" or "none"
  GroupSummary regular;
  std::optional<GroupSummary> slow;
  double total_mbit_s = 0;
  std::optional<HlsSummary> hls;            // mode hls only
  std::map<std::string, uint64_t> reasons;  // up to kMaxReasons, most frequent
};

inline constexpr size_t kMaxReasons = 10;

std::optional<double> percentile(std::vector<double> values, double q);

Summary summarize(RunInfo run, const std::vector<ViewerResult>& viewers);
std::string to_json(const Summary& summary);
std::string to_text(const Summary& summary);

extern const char* const kJsonSchemaDoc;

}  // namespace cascade::loadgen
