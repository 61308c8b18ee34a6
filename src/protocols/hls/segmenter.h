// Segmenter: cuts one live stream's samples into HLS segments and LL-HLS
// partial segments, and muxes each once, as fMP4/CMAF (parts, segments,
// init sections) and as MPEG-TS (segments). Sans-I/O; driven by the
// stream's home worker; not thread-safe.
//
// Cutting rules:
// - A segment starts at a keyframe (any audio frame for audio-only
//   streams). At each keyframe the open segment is closed if it has reached
//   the target, or if waiting for the next keyframe (predicted from the last
//   GOP) would overshoot it; so a 1.5 s GOP with a 2 s target gives 1.5 s
//   segments.
// - The Target Duration is fixed when the first segment closes:
//   max(target, first segment) rounded up to whole seconds. RFC 8216 4.3.3.1
//   / 8216bis 4.4.3.1: every EXTINF rounded to the nearest integer is <= it,
//   and it never changes. A later GOP longer than that forces a cut at a
//   non-keyframe (counted in forced_cuts(); the segment is not independent),
//   and the next keyframe then starts a segment whatever its length.
// - Parts: the duration of a part is only known when the next video frame
//   arrives, so the newest video frame is held back one frame; it joins the
//   open part unless that would make the part longer than the Part Target
//   (8216bis 4.4.4.9: a part's duration MUST NOT exceed PART-TARGET).
// - A new publisher session or a codec change closes the open segment at
//   once and starts one with a discontinuity at the next keyframe (a new init
//   section on a codec change); samples in between are dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/shared_bytes.h"
#include "core/time.h"
#include "media/av_sample.h"
#include "media/mpegts_muxer.h"

namespace cascade::hls {

struct SegmenterConfig {
  MediaTimeMs segment_target_ms = 2000;
  MediaTimeMs part_target_ms = 333;
};

struct SegmentStart {
  uint64_t msn = 0;
  MediaTimeMs start_dts = 0;
  int64_t program_date_ms = 0;  // Unix ms of the first sample
  bool discontinuity = false;
  bool independent = true;      // starts with a keyframe
  uint32_t init_id = 0;         // the fMP4 init section its parts use
};

struct PartOut {
  uint64_t msn = 0;
  uint32_t index = 0;
  MediaTimeMs duration_ms = 0;
  bool independent = false;
  SharedBytes bytes;  // one moof+mdat
};

struct SegmentOut {
  SegmentStart start;
  uint32_t target_duration_s = 0;  // fixed from the first segment on
  MediaTimeMs duration_ms = 0;
  uint32_t parts = 0;
  uint32_t video_frames = 0;
  SharedBytes fmp4;  // its parts, concatenated
  SharedBytes ts;    // PAT, PMT and its samples as PES
};

// Receives the segmenter's output, in order: on_init before the first
// segment using it, on_segment_start before the segment's first part, parts
// in order, then on_segment_end.
class SegmenterSink {
 public:
  virtual ~SegmenterSink() = default;
  virtual void on_init(uint32_t init_id, const media::TrackSet& tracks, SharedBytes init) = 0;
  virtual void on_segment_start(const SegmentStart& start) = 0;
  virtual void on_part(const PartOut& part) = 0;
  virtual void on_segment_end(const SegmentOut& segment) = 0;
};

class Segmenter {
 public:
  Segmenter(SegmenterConfig config, SegmenterSink& sink);

  // The stream's tracks (from its codec configs). The first call starts
  // segmentation at the next join point; a different set later starts a new
  // init section and a discontinuity there.
  void set_tracks(media::TrackSet tracks);
  // A new publisher session: the next segment carries a discontinuity.
  void begin_session();
  // One sample on the stream's timeline; `wall_ms` is the Unix time it
  // arrived (for EXT-X-PROGRAM-DATE-TIME). Samples of tracks not in the
  // current set, before the first join point, or with malformed NAL framing
  // are dropped (counted).
  void push(const media::AvSample& sample, int64_t wall_ms);
  // The stream ended: close the open part and segment.
  void flush();

  // 0 until the first segment closes.
  uint32_t target_duration_s() const { return target_duration_s_; }
  const SegmenterConfig& config() const { return config_; }
  uint64_t dropped_samples() const { return dropped_; }
  uint64_t forced_cuts() const { return forced_cuts_; }

 private:
  bool has_video() const { return tracks_ && tracks_->video.has_value(); }
  bool is_pacing(const media::AvSample& sample) const;
  bool is_join_point(const media::AvSample& sample) const;
  void start_segment(const media::AvSample& first, bool independent);
  // Decides where the held-back pacing sample goes, now that the next
  // pacing sample's dts (its end) is known, then appends the held samples.
  void place_held(MediaTimeMs next_dts);
  void append(const media::AvSample& sample);
  void close_part(MediaTimeMs end_dts);
  void close_segment(MediaTimeMs end_dts);
  bool segment_due(const media::AvSample& keyframe) const;
  void apply_tracks();
  MediaTimeMs estimated_interval() const;

  SegmenterConfig config_;
  SegmenterSink& sink_;
  std::optional<media::TrackSet> tracks_;          // applied
  std::optional<media::TrackSet> pending_tracks_;  // to apply at the next join point
  std::optional<media::TsMuxer> ts_;
  uint32_t init_id_ = 0;
  bool discontinuity_pending_ = false;

  // Open segment / part.
  bool segment_open_ = false;
  SegmentStart segment_;
  uint32_t part_index_ = 0;
  uint32_t video_frames_ = 0;
  bool part_open_ = false;
  MediaTimeMs part_start_ = 0;
  bool part_independent_ = false;
  std::vector<media::AvSample> part_video_, part_audio_;
  std::vector<SharedBytes> segment_parts_;
  std::vector<uint8_t> ts_bytes_;
  uint32_t fragment_sequence_ = 1;

  // Held back: the newest pacing sample and the samples that arrived after it.
  std::vector<media::AvSample> held_;

  // Timing.
  uint32_t target_duration_s_ = 0;
  MediaTimeMs last_join_dts_ = -1;
  MediaTimeMs last_gop_ms_ = 0;
  MediaTimeMs last_pacing_dts_ = -1;
  MediaTimeMs intervals_[8] = {};
  size_t interval_count_ = 0;
  int64_t wall_anchor_ms_ = 0;   // wall clock at anchor_dts_
  MediaTimeMs anchor_dts_ = 0;
  bool anchored_ = false;
  int64_t last_wall_ms_ = 0;

  uint64_t next_msn_ = 0;
  uint64_t dropped_ = 0;
  uint64_t forced_cuts_ = 0;
};

}  // namespace cascade::hls
