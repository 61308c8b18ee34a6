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
};

struct Percentiles {
  std::optional<double> p50, p95, max;
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
};

struct Summary {
  RunInfo run;
  std::string primary_track;  // "video", "audio" or "none"
  std::optional<double> expected_fps;
  std::string fps_source;  // "option", "estimated" or "none"
  GroupSummary regular;
  std::optional<GroupSummary> slow;
  double total_mbit_s = 0;
  std::map<std::string, uint64_t> reasons;  // up to kMaxReasons, most frequent
};

inline constexpr size_t kMaxReasons = 10;

std::optional<double> percentile(std::vector<double> values, double q);

Summary summarize(RunInfo run, const std::vector<ViewerResult>& viewers);
std::string to_json(const Summary& summary);
std::string to_text(const Summary& summary);

extern const char* const kJsonSchemaDoc;

}  // namespace cascade::loadgen
