// Fuzzes the FLV keyframe index (onMetaData and scan paths) and the seeks
// planned on what it accepts.
//
// Input: one mode byte, then the file. The index must be self-consistent
// (seek points increasing inside the file, tags whole); seek points of a
// scanned index must pass the request-time check; seeks by byte offset and
// by time (start from the mode's high nibble, an end when bit 3 is set)
// must give ranges inside the file adding up to total_size, and, on a
// scanned index (every tag checked), an answer the FLV demuxer reads whole.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/flv.h"
#include "media/flv_keyframe_index.h"
#include "media/flv_seek.h"
#include "media/mp4_index.h"

namespace {

using cascade::flv::FlvIndexOrigin;
using cascade::flv::FlvKeyframeIndex;
using cascade::flv::FlvSeekPlan;
using cascade::flv::FlvSeekRequest;
using cascade::flv::FlvSeekUnit;
using cascade::flv::FlvSeekVerdict;
using cascade::flv::FlvTagSpan;

void check_span(const FlvTagSpan& tag, const FlvKeyframeIndex& index) {
  if (tag.offset < index.first_tag_offset || tag.end() > index.file_size) __builtin_trap();
}

void check_index(const FlvKeyframeIndex& index, std::span<const uint8_t> file) {
  if (index.file_size != file.size() || index.first_tag_offset < 13) __builtin_trap();
  if (index.offsets.size() != index.times_ms.size()) __builtin_trap();
  for (size_t i = 0; i < index.offsets.size(); ++i) {
    if (index.offsets[i] < index.first_tag_offset || index.offsets[i] + 15 > file.size()) {
      __builtin_trap();
    }
    if (i > 0 && index.offsets[i] <= index.offsets[i - 1]) __builtin_trap();
    if (i > 0 && index.times_monotonic && index.times_ms[i] < index.times_ms[i - 1]) {
      __builtin_trap();
    }
  }
  if (index.metadata) check_span(*index.metadata, index);
  for (const FlvTagSpan& tag : index.video_configs) check_span(tag, index);
  for (const FlvTagSpan& tag : index.audio_configs) check_span(tag, index);
}

void check_plan(const FlvSeekPlan& plan, const FlvKeyframeIndex& index,
                std::span<const uint8_t> file) {
  if (plan.verdict != FlvSeekVerdict::kClip) return;
  if (plan.header.size() != 13 || plan.ranges.empty()) __builtin_trap();
  uint64_t total = plan.header.size();
  std::vector<uint8_t> answer = plan.header;
  for (const cascade::media::FileRange& range : plan.ranges) {
    if (range.length == 0 || range.offset + range.length > file.size()) __builtin_trap();
    total += range.length;
    answer.insert(answer.end(), file.begin() + static_cast<ptrdiff_t>(range.offset),
                  file.begin() + static_cast<ptrdiff_t>(range.offset + range.length));
  }
  if (total != plan.total_size) __builtin_trap();
  if (index.origin != FlvIndexOrigin::kScan) return;
  cascade::flv::FlvDemuxer demuxer;
  auto consumed = demuxer.feed(answer);
  if (!consumed.ok() || *consumed != answer.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::span<const uint8_t> file(data + 1, size - 1);
  cascade::flv::FlvIndexLimits limits;
  limits.max_seek_points = 10'000;  // keep each run fast
  limits.max_tags = 100'000;
  limits.max_cut_tags = 10'000;
  cascade::media::Mp4MemorySource source(file);
  auto index = cascade::flv::read_flv_keyframe_index(source, limits);
  if (!index.ok()) return 0;
  check_index(*index, file);
  const size_t points = index->offsets.size();
  if (index->origin == FlvIndexOrigin::kScan) {
    for (size_t i = 0; i < points && i < 64; ++i) {
      if (!cascade::flv::check_flv_seek_point(source, *index, i).ok()) __builtin_trap();
    }
  }
  std::vector<FlvSeekRequest> requests;
  if (points > 0) {
    for (size_t i : {size_t{0}, points / 2, points - 1}) {
      requests.push_back({FlvSeekUnit::kBytes, index->offsets[i], 0, std::nullopt});
    }
  }
  requests.push_back({FlvSeekUnit::kBytes, file.size() * mode / 256, 0, std::nullopt});
  const double start_s = index->duration_ms / 1000.0 * (mode >> 4) / 16;
  FlvSeekRequest by_time{FlvSeekUnit::kSeconds, 0, start_s, std::nullopt};
  if (mode & 8) by_time.end_s = start_s + 0.04 + (mode & 7) * 0.3;
  requests.push_back(by_time);
  for (const FlvSeekRequest& request : requests) {
    const FlvSeekPlan plan = cascade::flv::plan_flv_seek(source, *index, request, limits);
    if (request.unit == FlvSeekUnit::kBytes && index->origin == FlvIndexOrigin::kScan &&
        request.start_byte > index->first_tag_offset && index->find_offset(request.start_byte) &&
        plan.verdict != FlvSeekVerdict::kClip) {
      __builtin_trap();  // a scanned seek point is always seekable
    }
    check_plan(plan, *index, file);
  }
  return 0;
}
