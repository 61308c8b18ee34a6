#include "media/flv_seek.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <variant>

namespace cascade::flv {
namespace {

FlvSeekPlan refuse(FlvSeekVerdict verdict, std::string reason) {
  FlvSeekPlan plan;
  plan.verdict = verdict;
  plan.reason = std::move(reason);
  return plan;
}

FlvSeekPlan whole_file() {
  FlvSeekPlan plan;
  plan.verdict = FlvSeekVerdict::kWholeFile;
  return plan;
}

std::string_view point_name(const FlvKeyframeIndex& index) {
  return index.kind == FlvSeekPointKind::kVideoKeyframe ? "video keyframe" : "audio";
}

// The last tag of `tags` (file order) starting before `offset`.
const FlvTagSpan* last_before(const std::vector<FlvTagSpan>& tags, uint64_t offset) {
  const auto it = std::partition_point(tags.begin(), tags.end(),
                                       [&](const FlvTagSpan& t) { return t.offset < offset; });
  return it == tags.begin() ? nullptr : &*(it - 1);
}

struct PointChoice {
  size_t point = 0;
  uint64_t body_end = 0;
};

// kSeconds: the seek point and where the body ends, or a refusal.
std::variant<PointChoice, FlvSeekPlan> choose_by_time(media::Mp4Source& source,
                                                      const FlvKeyframeIndex& index,
                                                      const FlvSeekRequest& request,
                                                      const FlvIndexLimits& limits) {
  const std::vector<uint32_t>& times = index.times_ms;
  if (times.empty()) {
    return refuse(FlvSeekVerdict::kCannotSeek, fmt::format("no {} tags", point_name(index)));
  }
  if (!index.times_monotonic) {
    return refuse(FlvSeekVerdict::kCannotSeek,
                  fmt::format("{} timestamps go backwards (only byte offsets can be seeked)",
                              point_name(index)));
  }
  const double start_ms = request.start_s * 1000;
  if (start_ms > index.duration_ms) {
    return refuse(FlvSeekVerdict::kPastEnd,
                  fmt::format("start={} s is past the file's last tag ({} ms)", request.start_s,
                              index.duration_ms));
  }
  PointChoice choice;
  if (index.kind == FlvSeekPointKind::kVideoKeyframe) {
    // The last keyframe at or before start (the first one if none is).
    const auto after = std::upper_bound(times.begin(), times.end(), start_ms,
                                        [](double t, uint32_t time) { return t < time; });
    choice.point = after == times.begin() ? 0 : static_cast<size_t>(after - times.begin()) - 1;
  } else {
    // The first audio tag at or after start.
    const auto at = std::lower_bound(times.begin(), times.end(), start_ms,
                                     [](uint32_t time, double t) { return time < t; });
    if (at == times.end()) {
      return refuse(FlvSeekVerdict::kPastEnd,
                    fmt::format("no audio at or after start={} s", request.start_s));
    }
    choice.point = static_cast<size_t>(at - times.begin());
  }
  if (choice.point == 0 && !request.end_s) return whole_file();
  if (auto checked = check_flv_seek_point(source, index, choice.point); !checked) {
    return refuse(FlvSeekVerdict::kCannotSeek,
                  "its keyframe index does not match the file: " + checked.error().message);
  }
  choice.body_end = index.file_size;
  if (request.end_s && *request.end_s * 1000 <= index.duration_ms) {
    // Tags stamped >= end_s * 1000 ms are those stamped >= its ceiling.
    const auto end_ms = static_cast<uint32_t>(std::ceil(*request.end_s * 1000));
    const auto first_at_end = std::lower_bound(times.begin(), times.end(), end_ms);
    size_t from = first_at_end == times.begin() ? 0 : size_t(first_at_end - times.begin()) - 1;
    from = std::max(from, choice.point);
    if (from != choice.point) {
      if (auto checked = check_flv_seek_point(source, index, from); !checked) {
        return refuse(FlvSeekVerdict::kCannotSeek,
                      "its keyframe index does not match the file: " + checked.error().message);
      }
    }
    auto cut = find_flv_tag_at_or_after(source, index, index.offsets[from], end_ms, limits);
    if (!cut) return refuse(FlvSeekVerdict::kCannotSeek, cut.error().message);
    choice.body_end = *cut;
  }
  return choice;
}

// kBytes: the seek point, or a refusal. The body runs to the end of the file.
std::variant<PointChoice, FlvSeekPlan> choose_by_offset(media::Mp4Source& source,
                                                        const FlvKeyframeIndex& index,
                                                        uint64_t start) {
  if (start <= index.first_tag_offset) return whole_file();
  if (start >= index.file_size) {
    return refuse(
        FlvSeekVerdict::kPastEnd,
        fmt::format("start={} is past the end of the file ({} bytes)", start, index.file_size));
  }
  const auto point = index.find_offset(start);
  if (!point) {
    return refuse(FlvSeekVerdict::kBadStart,
                  fmt::format("start={} is not the byte offset of a {} tag in this file (see its "
                              "onMetaData keyframes.filepositions)",
                              start, point_name(index)));
  }
  if (auto checked = check_flv_seek_point(source, index, *point); !checked) {
    return refuse(FlvSeekVerdict::kBadStart,
                  fmt::format("start={} is not a {} tag in this file ({})", start,
                              point_name(index), checked.error().message));
  }
  return PointChoice{*point, index.file_size};
}

}  // namespace

FlvSeekPlan plan_flv_seek(media::Mp4Source& source, const FlvKeyframeIndex& index,
                          const FlvSeekRequest& request, const FlvIndexLimits& limits) {
  auto chosen = request.unit == FlvSeekUnit::kBytes
                    ? choose_by_offset(source, index, request.start_byte)
                    : choose_by_time(source, index, request, limits);
  if (auto* plan = std::get_if<FlvSeekPlan>(&chosen)) return std::move(*plan);
  const PointChoice choice = std::get<PointChoice>(chosen);
  const uint64_t start = index.offsets[choice.point];
  if (choice.body_end <= start) {
    return refuse(FlvSeekVerdict::kPastEnd, "no tags between start and end");
  }

  // What a decoder needs before the seek point, in file order.
  std::vector<const FlvTagSpan*> prefix;
  if (index.metadata && index.metadata->offset < start) prefix.push_back(&*index.metadata);
  const FlvTagSpan* video_config = last_before(index.video_configs, start);
  const FlvTagSpan* audio_config = last_before(index.audio_configs, start);
  if (video_config) prefix.push_back(video_config);
  if (audio_config) prefix.push_back(audio_config);
  std::sort(prefix.begin(), prefix.end(),
            [](const FlvTagSpan* a, const FlvTagSpan* b) { return a->offset < b->offset; });

  FlvSeekPlan plan;
  plan.start_ms = index.times_ms[choice.point];
  auto add_range = [&plan](uint64_t offset, uint64_t length) {
    if (!plan.ranges.empty() && plan.ranges.back().offset + plan.ranges.back().length == offset) {
      plan.ranges.back().length += length;
    } else {
      plan.ranges.push_back({offset, length});
    }
    plan.total_size += length;
  };
  for (const FlvTagSpan* tag : prefix) add_range(tag->offset, tag->length());
  add_range(start, choice.body_end - start);

  // FLV spec E.2: the header, version 1, DataOffset 9; E.3: PreviousTagSize0.
  const bool has_video =
      (index.type_flags & 0x01) || video_config || index.kind == FlvSeekPointKind::kVideoKeyframe;
  const bool has_audio =
      (index.type_flags & 0x04) || audio_config || index.kind == FlvSeekPointKind::kAudio;
  write_file_header(has_audio, has_video, plan.header);
  plan.total_size += plan.header.size();
  return plan;
}

}  // namespace cascade::flv
