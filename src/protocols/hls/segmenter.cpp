#include "protocols/hls/segmenter.h"

#include <algorithm>
#include <utility>

#include "media/fmp4_writer.h"

namespace cascade::hls {

using media::AvSample;
using media::TrackKind;

namespace {

bool same_tracks(const media::TrackSet& a, const media::TrackSet& b) {
  return a.video == b.video && a.audio == b.audio;
}

MediaTimeMs ceil_seconds(MediaTimeMs ms) { return (ms + 999) / 1000; }

// Where a segment of `tracks` may start: a video keyframe, or any audio
// frame when there is no video.
bool joins(const media::TrackSet& tracks, const AvSample& sample) {
  if (tracks.video) return sample.kind == TrackKind::kVideo && sample.keyframe;
  return sample.kind == TrackKind::kAudio;
}

}  // namespace

Segmenter::Segmenter(SegmenterConfig config, SegmenterSink& sink)
    : config_(config), sink_(sink) {}

void Segmenter::set_tracks(media::TrackSet tracks) {
  if (!tracks.video && !tracks.audio) return;
  if (tracks_ && same_tracks(*tracks_, tracks)) {
    pending_tracks_.reset();
    return;
  }
  pending_tracks_ = std::move(tracks);
  // Not segmenting yet (or between sessions): nothing to cut, apply now.
  if (!segment_open_) apply_tracks();
}

void Segmenter::apply_tracks() {
  tracks_ = std::move(*pending_tracks_);
  pending_tracks_.reset();
  ++init_id_;
  ts_.emplace(*tracks_);
  if (next_msn_ > 0) discontinuity_pending_ = true;  // RFC 8216 4.3.2.3: encoding change
  sink_.on_init(init_id_, *tracks_, media::write_fmp4_init_segment(*tracks_));
}

void Segmenter::begin_session() {
  if (next_msn_ > 0) discontinuity_pending_ = true;
}

bool Segmenter::is_pacing(const AvSample& sample) const {
  return has_video() ? sample.kind == TrackKind::kVideo : sample.kind == TrackKind::kAudio;
}

bool Segmenter::is_join_point(const AvSample& sample) const {
  if (has_video()) return sample.kind == TrackKind::kVideo && sample.keyframe;
  return sample.kind == TrackKind::kAudio;
}

MediaTimeMs Segmenter::estimated_interval() const {
  MediaTimeMs longest = 0;
  for (size_t i = 0; i < std::min(interval_count_, std::size(intervals_)); ++i) {
    longest = std::max(longest, intervals_[i]);
  }
  return longest > 0 ? longest : 40;
}

void Segmenter::push(const AvSample& sample, int64_t wall_ms) {
  last_wall_ms_ = wall_ms;
  // Samples after set_tracks() belong to the pending set (their sequence
  // header came first): check them, and find the join point, by that set.
  const media::TrackSet* incoming = pending_tracks_ ? &*pending_tracks_
                                    : tracks_       ? &*tracks_
                                                    : nullptr;
  const bool known_track =
      incoming && (sample.kind == TrackKind::kVideo ? incoming->video.has_value()
                                                    : incoming->audio.has_value());
  if (!known_track ||
      (sample.kind == TrackKind::kVideo &&
       !media::nal_units_well_formed(sample.data.span(), incoming->video->nal_length_size))) {
    ++dropped_;
    return;
  }
  const bool restart = discontinuity_pending_ || pending_tracks_.has_value();
  // A new session or codec config ends the open segment at once (its last
  // part must not stretch over the samples dropped until the next keyframe).
  // A cut that flush() forces belongs to the old segment's session: the
  // discontinuity stays pending for the next join point.
  if (restart && segment_open_) {
    const bool discontinuity = std::exchange(discontinuity_pending_, false);
    flush();
    discontinuity_pending_ = discontinuity;
  }
  if (!segment_open_) {
    // Waiting for a join point: the first segment, or one after a
    // discontinuity. Samples before it cannot be decoded on their own.
    if (!joins(*incoming, sample)) {
      ++dropped_;
      return;
    }
    if (pending_tracks_) apply_tracks();
    last_join_dts_ = sample.dts;
    last_pacing_dts_ = sample.dts;
    start_segment(sample, true);
    held_.push_back(sample);
    return;
  }
  if (!is_pacing(sample)) {
    if (held_.empty()) {
      append(sample);
    } else {
      held_.push_back(sample);
    }
    return;
  }
  if (last_pacing_dts_ >= 0 && sample.dts > last_pacing_dts_) {
    intervals_[interval_count_++ % std::size(intervals_)] = sample.dts - last_pacing_dts_;
  }
  last_pacing_dts_ = sample.dts;
  place_held(sample.dts);
  if (is_join_point(sample)) {
    if (last_join_dts_ >= 0 && sample.dts > last_join_dts_) last_gop_ms_ = sample.dts - last_join_dts_;
    last_join_dts_ = sample.dts;
    if (segment_due(sample)) {
      close_segment(sample.dts);
      start_segment(sample, true);
    }
  }
  held_.push_back(sample);
}

bool Segmenter::segment_due(const AvSample& keyframe) const {
  const MediaTimeMs elapsed = keyframe.dts - segment_.start_dts;
  if (elapsed <= 0) return false;
  // After a forced cut, the first keyframe starts an independent segment
  // again, so the cuts return to keyframes.
  if (!segment_.independent) return true;
  if (elapsed >= config_.segment_target_ms) return true;
  // Cut early if waiting one more GOP would overshoot the target, but never
  // below half of it (a scene-cut keyframe must not make a tiny segment).
  return last_gop_ms_ > 0 && elapsed * 2 >= config_.segment_target_ms &&
         elapsed + last_gop_ms_ > config_.segment_target_ms;
}

void Segmenter::place_held(MediaTimeMs next_dts) {
  if (held_.empty()) return;
  const AvSample& first = held_.front();
  const MediaTimeMs limit_ms = MediaTimeMs(target_duration_s_) * 1000 + 500;
  if (target_duration_s_ > 0 && next_dts - segment_.start_dts >= limit_ms &&
      first.dts > segment_.start_dts) {
    // The GOP outgrew the fixed Target Duration: cut here, at a
    // non-keyframe, rather than exceed it.
    ++forced_cuts_;
    close_segment(first.dts);
    start_segment(first, is_join_point(first));
  } else if (part_open_ && next_dts - part_start_ > config_.part_target_ms &&
             first.dts > part_start_) {
    close_part(first.dts);
  }
  for (const AvSample& sample : held_) append(sample);
  held_.clear();
}

void Segmenter::append(const AvSample& sample) {
  if (!part_open_) {
    part_open_ = true;
    part_start_ = sample.dts;
    part_independent_ = is_join_point(sample);
  }
  if (sample.kind == TrackKind::kVideo) {
    part_video_.push_back(sample);
    ++video_frames_;
  } else {
    part_audio_.push_back(sample);
  }
  // A sample the TS muxer rejects (already NAL-checked above) is left out of
  // the TS segment only.
  if (ts_) (void)ts_->write_sample(sample, ts_bytes_);
}

void Segmenter::close_part(MediaTimeMs end_dts) {
  if (!part_open_) return;
  media::Fmp4FragmentInput input;
  input.sequence_number = fragment_sequence_++;
  input.video = part_video_;
  input.video_end_dts = end_dts;
  input.audio = part_audio_;
  PartOut part;
  part.msn = segment_.msn;
  part.index = part_index_++;
  part.duration_ms = std::max<MediaTimeMs>(0, end_dts - part_start_);
  part.independent = part_independent_;
  part.bytes = media::write_fmp4_fragment(*tracks_, input);
  segment_parts_.push_back(part.bytes);
  part_video_.clear();
  part_audio_.clear();
  part_open_ = false;
  sink_.on_part(part);
}

void Segmenter::close_segment(MediaTimeMs end_dts) {
  if (!segment_open_) return;
  close_part(end_dts);
  SegmentOut out;
  out.start = segment_;
  out.duration_ms = std::max<MediaTimeMs>(0, end_dts - segment_.start_dts);
  out.parts = part_index_;
  out.video_frames = video_frames_;
  size_t total = 0;
  for (const SharedBytes& part : segment_parts_) total += part.size();
  MutableBytes fmp4(total);
  for (const SharedBytes& part : segment_parts_) fmp4.append(part.span());
  out.fmp4 = std::move(fmp4).freeze();
  out.ts = SharedBytes::copy_of(std::span<const uint8_t>(ts_bytes_));
  if (target_duration_s_ == 0) {
    target_duration_s_ = static_cast<uint32_t>(
        std::max(ceil_seconds(config_.segment_target_ms), ceil_seconds(out.duration_ms)));
  }
  out.target_duration_s = target_duration_s_;
  segment_parts_.clear();
  ts_bytes_.clear();
  segment_open_ = false;
  sink_.on_segment_end(out);
}

void Segmenter::start_segment(const AvSample& first, bool independent) {
  if (!anchored_ || discontinuity_pending_) {
    wall_anchor_ms_ = last_wall_ms_;
    anchor_dts_ = first.dts;
    anchored_ = true;
  }
  segment_ = SegmentStart{};
  segment_.msn = next_msn_++;
  segment_.start_dts = first.dts;
  segment_.program_date_ms = wall_anchor_ms_ + (first.dts - anchor_dts_);
  segment_.discontinuity = discontinuity_pending_;
  segment_.independent = independent;
  segment_.init_id = init_id_;
  discontinuity_pending_ = false;
  part_index_ = 0;
  video_frames_ = 0;
  segment_open_ = true;
  if (ts_) ts_->write_tables(ts_bytes_);
  sink_.on_segment_start(segment_);
}

void Segmenter::flush() {
  if (!segment_open_) return;
  // The last pacing sample's duration is not known: estimate it.
  const MediaTimeMs end =
      (held_.empty() ? last_pacing_dts_ : held_.front().dts) + estimated_interval();
  place_held(end);
  close_segment(end);
}

}  // namespace cascade::hls
