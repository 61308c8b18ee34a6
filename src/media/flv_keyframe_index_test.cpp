#include "media/flv_keyframe_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/byte_order.h"
#include "media/flv_test_file.h"
#include "media/test_corpus.h"

namespace cascade::flv {
namespace {

using media::testing::bytes;
using media::testing::Bytes;
using media::testing::concat;
using media::testing::save_seed;
using media::testing::text;
using testing::FlvFile;
using testing::FlvFileSpec;
using testing::make_flv_file;
using testing::with_keyframe_index;

// Seeds for fuzz/flv_keyframe_index_fuzz.cpp: a mode byte, then the file.
void save_file_seed(std::string_view name, const Bytes& file, uint8_t mode = 0x35) {
  save_seed("flv_keyframe_index", name, concat({bytes({mode}), file}));
}

// Counts what the index reads, to check reads stay bounded.
class CountingSource final : public media::Mp4Source {
 public:
  explicit CountingSource(std::span<const uint8_t> bytes) : inner_(bytes) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    ++reads;
    bytes_read += out.size();
    largest_read = std::max(largest_read, out.size());
    return inner_.read_at(offset, out);
  }
  uint64_t size() const override { return inner_.size(); }

  size_t reads = 0;
  uint64_t bytes_read = 0;
  size_t largest_read = 0;

 private:
  media::Mp4MemorySource inner_;
};

Result<FlvKeyframeIndex> index_of(const Bytes& file, const FlvIndexLimits& limits = {}) {
  media::Mp4MemorySource source(file);
  return read_flv_keyframe_index(source, limits);
}

void expect_matches(const FlvKeyframeIndex& index, const FlvFile& f) {
  EXPECT_EQ(index.file_size, f.bytes.size());
  EXPECT_EQ(index.first_tag_offset, 13u);
  EXPECT_EQ(index.kind, FlvSeekPointKind::kVideoKeyframe);
  EXPECT_EQ(index.offsets, f.keyframe_offsets);
  EXPECT_EQ(index.times_ms, f.keyframe_times_ms);
  EXPECT_TRUE(index.times_monotonic);
  EXPECT_EQ(index.duration_ms, f.last_timestamp_ms);
  ASSERT_TRUE(index.metadata.has_value());
  EXPECT_EQ(index.metadata->offset, f.metadata_offset);
  ASSERT_FALSE(index.video_configs.empty());
  EXPECT_EQ(index.video_configs[0].offset, f.video_config_offsets[0]);
  ASSERT_EQ(index.audio_configs.size(), 1u);
  EXPECT_EQ(index.audio_configs[0].offset, f.audio_config_offset);
  EXPECT_EQ(index.audio_configs[0].data_size, 4u);
  EXPECT_EQ(index.audio_configs[0].length(), 19u);
}

TEST(FlvKeyframeIndex, ScansAFileWithoutAKeyframeIndex) {
  FlvFileSpec spec;
  spec.keyframe_index = false;
  spec.config_change_at_gop = 3;
  const FlvFile f = make_flv_file(spec);
  save_file_seed("scan_with_config_change", f.bytes);
  auto index = index_of(f.bytes);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->origin, FlvIndexOrigin::kScan);
  expect_matches(*index, f);
  // Every sequence header is known to a scan, in file order.
  ASSERT_EQ(index->video_configs.size(), 2u);
  EXPECT_EQ(index->video_configs[1].offset, f.video_config_offsets[1]);
  EXPECT_EQ(index->video_configs[1].timestamp_ms, 3000u);
  EXPECT_EQ(index->find_offset(f.keyframe_offsets[2]), 2u);
  EXPECT_FALSE(index->find_offset(f.keyframe_offsets[2] + 1));
  EXPECT_GT(index->memory_bytes(), sizeof(FlvKeyframeIndex));
}

TEST(FlvKeyframeIndex, UsesOnMetaDataKeyframesWhenTheFileAgrees) {
  const FlvFile f = make_flv_file();
  save_file_seed("metadata_index", f.bytes);
  auto index = index_of(f.bytes);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->origin, FlvIndexOrigin::kMetadata);
  expect_matches(*index, f);
}

TEST(FlvKeyframeIndex, MetadataIndexReadsLittleOfALargeFile) {
  FlvFileSpec spec;
  spec.gops = 120;
  spec.keyframe_bytes = 100'000;
  const FlvFile f = make_flv_file(spec);
  CountingSource metadata_source(f.bytes);
  auto index = read_flv_keyframe_index(metadata_source);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->origin, FlvIndexOrigin::kMetadata);
  EXPECT_EQ(index->offsets, f.keyframe_offsets);
  EXPECT_LT(metadata_source.bytes_read, f.bytes.size() / 20);

  spec.keyframe_index = false;
  const FlvFile plain = make_flv_file(spec);
  CountingSource scan_source(plain.bytes);
  auto scanned = read_flv_keyframe_index(scan_source);
  ASSERT_TRUE(scanned) << scanned.error().message;
  EXPECT_EQ(scanned->offsets, plain.keyframe_offsets);
  // Bounded chunks, never the whole file at once.
  EXPECT_LE(scan_source.largest_read, 64u * 1024);
  EXPECT_LE(scan_source.reads, plain.tag_offsets.size() + 4);
}

// onMetaData indexes that are stale, implausible or lying: the file is
// scanned instead, and the scan finds the real keyframes.
TEST(FlvKeyframeIndex, DistrustsMetadataThatDisagreesWithTheFile) {
  const FlvFileSpec spec;
  const FlvFile good = make_flv_file(spec);
  std::vector<double> times, positions;
  for (size_t i = 0; i < good.keyframe_offsets.size(); ++i) {
    times.push_back(good.keyframe_times_ms[i] / 1e3);
    positions.push_back(double(good.keyframe_offsets[i]));
  }
  struct Lie {
    std::string name;
    std::vector<double> times, positions;
  };
  std::vector<Lie> lies;
  auto lie = [&](std::string name, auto change) {
    Lie l{std::move(name), times, positions};
    change(l.times, l.positions);
    lies.push_back(std::move(l));
  };
  lie("shifted_by_one", [](auto&, auto& p) {
    for (double& x : p) x += 1;
  });
  lie("time_off", [](auto& t, auto&) { t[2] += 0.5; });
  lie("not_increasing", [](auto&, auto& p) { std::swap(p[1], p[2]); });
  lie("loop_repeated_position", [](auto&, auto& p) { p[3] = p[2]; });
  lie("past_the_end", [](auto&, auto& p) { p[4] = 1e12; });
  lie("nan_time", [](auto& t, auto&) { t[1] = std::nan(""); });
  lie("negative_time", [](auto& t, auto&) { t[0] = -1; });
  lie("infinite_position", [](auto&, auto& p) { p[4] = std::numeric_limits<double>::infinity(); });
  lie("fractional_position", [](auto&, auto& p) { p[2] += 0.5; });
  lie("times_backwards", [](auto& t, auto&) { t[3] = 1.0; });
  lie("points_to_audio", [&](auto&, auto& p) { p[2] = double(good.audio_offsets[7]); });
  lie("first_is_not_the_first_keyframe",
      [&](auto&, auto& p) { p[0] = double(good.audio_offsets[0]); });
  lie("points_to_metadata", [&](auto&, auto& p) { p[0] = double(good.metadata_offset); });
  lie("mid_tag", [](auto&, auto& p) { p[1] += 5; });
  lie("fewer_times", [](auto& t, auto&) { t.pop_back(); });
  lie("empty", [](auto& t, auto& p) {
    t.clear();
    p.clear();
  });
  lie("huge", [](auto& t, auto& p) {  // more values than AMF0 decoding allows
    t.assign(70'000, 0.0);
    p.assign(70'000, 0.0);
  });
  for (const Lie& l : lies) {
    const FlvFile f = with_keyframe_index(spec, l.times, l.positions);
    save_file_seed("lying_metadata_" + l.name, f.bytes);
    auto index = index_of(f.bytes);
    ASSERT_TRUE(index) << l.name << ": " << index.error().message;
    EXPECT_EQ(index->origin, FlvIndexOrigin::kScan) << l.name;
    EXPECT_EQ(index->offsets, f.keyframe_offsets) << l.name;
    EXPECT_EQ(index->times_ms, f.keyframe_times_ms) << l.name;
  }
}

TEST(FlvKeyframeIndex, AudioOnlyFilesSeekOnAudioTags) {
  FlvFileSpec spec;
  spec.video = false;  // FFmpeg writes empty keyframes arrays here
  const FlvFile f = make_flv_file(spec);
  save_file_seed("audio_only", f.bytes);
  auto index = index_of(f.bytes);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->kind, FlvSeekPointKind::kAudio);
  EXPECT_EQ(index->origin, FlvIndexOrigin::kScan);
  EXPECT_EQ(index->offsets, f.audio_offsets);
  EXPECT_EQ(index->times_ms, f.audio_times_ms);
  EXPECT_TRUE(index->video_configs.empty());
  EXPECT_EQ(index->audio_configs.size(), 1u);
}

TEST(FlvKeyframeIndex, OddButValidFiles) {
  // Keyframe timestamps going backwards: indexed, flagged.
  Bytes backwards;
  write_file_header(false, true, backwards);
  write_tag(kTagVideo, 1000, testing::flv_video_body(1, 1, 8, 1), backwards);
  write_tag(kTagVideo, 500, testing::flv_video_body(1, 1, 8, 2), backwards);
  save_file_seed("timestamps_backwards", backwards);
  auto index = index_of(backwards);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->offsets.size(), 2u);
  EXPECT_FALSE(index->times_monotonic);
  EXPECT_EQ(index->duration_ms, 1000u);

  // Video without a keyframe; an empty file; a larger DataOffset; unknown
  // tag types and empty bodies pass.
  Bytes no_keyframes;
  write_file_header(false, true, no_keyframes);
  write_tag(kTagVideo, 0, testing::flv_video_body(2, 1, 8, 1), no_keyframes);
  write_tag(kTagVideo, 40, {}, no_keyframes);
  write_tag(kTagAudio, 40, {}, no_keyframes);
  write_tag(7, 40, bytes({1, 2, 3}), no_keyframes);
  index = index_of(no_keyframes);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_TRUE(index->offsets.empty());
  EXPECT_EQ(index->kind, FlvSeekPointKind::kVideoKeyframe);

  Bytes empty;
  write_file_header(true, true, empty);
  index = index_of(empty);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_TRUE(index->offsets.empty());

  Bytes padded = bytes({'F', 'L', 'V', 1, 1, 0, 0, 0, 12, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0});
  write_tag(kTagVideo, 0, testing::flv_video_body(1, 1, 8, 1), padded);
  index = index_of(padded);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->first_tag_offset, 16u);
  EXPECT_EQ(index->offsets, std::vector<uint64_t>{16});
}

Bytes patched(Bytes file, size_t offset, std::initializer_list<int> values) {
  for (int v : values) file.at(offset++) = static_cast<uint8_t>(v);
  return file;
}

TEST(FlvKeyframeIndex, HostileFilesAreClearErrors) {
  FlvFileSpec spec;
  spec.keyframe_index = false;
  const FlvFile f = make_flv_file(spec);
  const FlvFile m = make_flv_file();  // with a keyframe index
  const size_t tag = f.keyframe_offsets[2];
  struct Case {
    std::string name;
    Bytes file;
    std::string error;
  };
  std::vector<Case> cases = {
      {"not_flv", text("GIF89a not a video at all"), "not an FLV file (bad signature)"},
      {"too_short", text("FLV"), "not an FLV file (3 bytes)"},
      {"version_2", patched(f.bytes, 3, {2}), "unsupported FLV version 2"},
      {"data_offset_small", patched(f.bytes, 5, {0, 0, 0, 5}), "bad FLV DataOffset 5"},
      {"data_offset_past_end", patched(f.bytes, 5, {0x7f, 0xff, 0xff, 0xff}), "bad FLV DataOffset"},
      {"previous_tag_size0", patched(f.bytes, 9, {0, 0, 0, 1}), "PreviousTagSize0 is 1"},
      {"truncated_in_body", Bytes(f.bytes.begin(), f.bytes.end() - 7), "runs past the end"},
      {"truncated_in_header", Bytes(f.bytes.begin(), f.bytes.begin() + tag + 5),
       "truncated tag at offset"},
      {"truncated_with_metadata", Bytes(m.bytes.begin(), m.bytes.end() - 3), "runs past the end"},
      {"data_size_past_eof", patched(f.bytes, tag + 1, {0xff, 0xff, 0xff}), "runs past the end"},
      {"previous_tag_size_mismatch", patched(f.bytes, f.keyframe_offsets[3] - 1, {0x7f}),
       "PreviousTagSize"},
      {"metadata_file_tag_size_mismatch", patched(m.bytes, m.keyframe_offsets[3] - 1, {0x7f}),
       "PreviousTagSize"},
      {"encrypted", patched(f.bytes, tag, {0x29}), "encrypted tag (Filter=1)"},
  };
  Bytes garbage = Bytes(f.bytes.begin(), f.bytes.begin() + 13);
  for (int i = 0; i < 600; ++i) garbage.push_back(static_cast<uint8_t>(i * 7919 >> 3));
  cases.push_back({"garbage_after_header", garbage, ""});
  for (const Case& c : cases) {
    save_file_seed(c.name, c.file);
    auto index = index_of(c.file);
    ASSERT_FALSE(index) << c.name;
    EXPECT_NE(index.error().message.find(c.error), std::string::npos)
        << c.name << ": " << index.error().message;
  }
  // Truncated anywhere inside a tag: an error, never a crash.
  std::vector<bool> boundary(f.bytes.size() + 1, false);
  for (uint64_t offset : f.tag_offsets) boundary[offset] = true;
  boundary[f.bytes.size()] = true;
  for (size_t size = 0; size < f.bytes.size(); ++size) {
    const Bytes cut(f.bytes.begin(), f.bytes.begin() + size);
    EXPECT_EQ(index_of(cut).ok(), size >= 13 && boundary[size]) << size;
  }
}

TEST(FlvKeyframeIndex, LimitsBoundWhatAFileCanMakeUsHold) {
  const FlvFile f = make_flv_file();
  FlvFileSpec plain;
  plain.keyframe_index = false;
  FlvIndexLimits limits;
  limits.max_tags = 10;
  auto index = index_of(make_flv_file(plain).bytes, limits);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().message, "more than 10 tags");

  limits = {};
  limits.max_seek_points = 2;  // also refuses the 5-entry onMetaData index
  index = index_of(f.bytes, limits);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().message, "more than 2 seek points");

  limits = {};
  limits.max_sequence_headers = 1;
  index = index_of(f.bytes, limits);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().message, "more than 1 sequence headers");

  limits = {};
  limits.max_metadata_bytes = 16;  // onMetaData not decoded: scanned
  index = index_of(f.bytes, limits);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->origin, FlvIndexOrigin::kScan);
  EXPECT_EQ(index->offsets, f.keyframe_offsets);
}

TEST(FlvKeyframeIndex, SeekPointsAreCheckedAgainstTheFile) {
  const FlvFile f = make_flv_file();
  auto index = index_of(f.bytes);
  ASSERT_TRUE(index) << index.error().message;
  media::Mp4MemorySource source(f.bytes);
  for (size_t i = 0; i < index->offsets.size(); ++i) {
    EXPECT_TRUE(check_flv_seek_point(source, *index, i)) << i;
  }
  const size_t kf = f.keyframe_offsets[2];
  struct Change {
    Bytes file;
    std::string error;
  };
  const std::vector<Change> changes = {
      {patched(f.bytes, kf + 11, {0x27}), "no video keyframe tag at offset"},
      {patched(f.bytes, kf + 6, {0x09}), "has timestamp 1801 ms, the index says 2000 ms"},
      {patched(f.bytes, kf - 1, {0x01}), "not at a tag boundary"},
      {patched(f.bytes, kf + 1, {0, 0, 1}), "is not followed by its PreviousTagSize"},
      {patched(f.bytes, kf, {0x08}), "no video keyframe tag"},
  };
  for (const Change& c : changes) {
    media::Mp4MemorySource changed(c.file);
    auto checked = check_flv_seek_point(changed, *index, 2);
    ASSERT_FALSE(checked) << c.error;
    EXPECT_NE(checked.error().message.find(c.error), std::string::npos) << checked.error().message;
  }
  EXPECT_FALSE(check_flv_seek_point(source, *index, 99));
}

TEST(FlvKeyframeIndex, FindsTheTagWhereAnEndTimeCuts) {
  const FlvFile f = make_flv_file();
  auto index = index_of(f.bytes);
  ASSERT_TRUE(index) << index.error().message;
  media::Mp4MemorySource source(f.bytes);
  auto first_at_or_after = [&](uint32_t ms) {
    for (size_t i = 0; i < f.tag_offsets.size(); ++i) {
      if (f.tag_offsets[i] >= f.keyframe_offsets[1] && f.tag_times_ms[i] >= ms) {
        return f.tag_offsets[i];
      }
    }
    return uint64_t{f.bytes.size()};
  };
  for (uint32_t end_ms : {1000u, 1001u, 1333u, 1500u, 2000u, 4666u, 4667u, 9000u}) {
    auto cut = find_flv_tag_at_or_after(source, *index, f.keyframe_offsets[1], end_ms);
    ASSERT_TRUE(cut) << cut.error().message;
    EXPECT_EQ(*cut, first_at_or_after(end_ms)) << end_ms;
  }
  FlvIndexLimits limits;
  limits.max_cut_tags = 3;
  auto far = find_flv_tag_at_or_after(source, *index, f.keyframe_offsets[0], 4000, limits);
  ASSERT_FALSE(far);
  EXPECT_NE(far.error().message.find("within 3 tags"), std::string::npos);
  EXPECT_FALSE(find_flv_tag_at_or_after(source, *index, f.bytes.size() + 1, 10));
}

}  // namespace
}  // namespace cascade::flv
