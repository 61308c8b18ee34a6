#include "media/flv_seek.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/flv_test_file.h"
#include "media/test_corpus.h"

namespace cascade::flv {
namespace {

using media::testing::Bytes;
using testing::FlvFile;
using testing::FlvFileSpec;
using testing::make_flv_file;

FlvKeyframeIndex index_of(const Bytes& file) {
  media::Mp4MemorySource source(file);
  auto index = read_flv_keyframe_index(source);
  EXPECT_TRUE(index) << index.error().message;
  return index ? std::move(index.value()) : FlvKeyframeIndex{};
}

FlvSeekPlan plan(const Bytes& file, const FlvKeyframeIndex& index, const FlvSeekRequest& request) {
  media::Mp4MemorySource source(file);
  return plan_flv_seek(source, index, request);
}

FlvSeekRequest bytes_at(uint64_t offset) {
  return {FlvSeekUnit::kBytes, offset, 0, std::nullopt};
}

FlvSeekRequest seconds(double start, std::optional<double> end = std::nullopt) {
  return {FlvSeekUnit::kSeconds, 0, start, end};
}

// What the server sends: the head, then the ranges of the file.
Bytes assemble(const FlvSeekPlan& p, const Bytes& file) {
  Bytes out = p.header;
  for (const media::FileRange& r : p.ranges) {
    EXPECT_GT(r.length, 0u);
    EXPECT_LE(r.offset + r.length, file.size());
    out.insert(out.end(), file.begin() + static_cast<ptrdiff_t>(r.offset),
               file.begin() + static_cast<ptrdiff_t>(r.offset + r.length));
  }
  EXPECT_EQ(out.size(), p.total_size);
  return out;
}

// Demuxes an answer; it must be a whole, valid FLV.
std::vector<FlvTag> demux(const Bytes& answer) {
  FlvDemuxer demuxer;
  auto consumed = demuxer.feed(answer);
  EXPECT_TRUE(consumed) << consumed.error().message;
  if (consumed) {
    EXPECT_EQ(*consumed, answer.size());
  }
  std::vector<FlvTag> tags;
  while (auto tag = demuxer.next_tag()) tags.push_back(std::move(*tag));
  return tags;
}

bool is_keyframe(const FlvTag& tag) {
  if (tag.type != kTagVideo) return false;
  auto info = parse_video_tag(tag.body.span());
  return info && info->keyframe() && info->packet == VideoPacket::kCodedFrames;
}

Bytes slice(const Bytes& file, uint64_t from, uint64_t to) {
  return Bytes(file.begin() + static_cast<ptrdiff_t>(from),
               file.begin() + static_cast<ptrdiff_t>(to));
}

TEST(FlvSeek, ByteOffsetOfEveryKeyframe) {
  for (bool keyframe_index : {true, false}) {
    FlvFileSpec spec;
    spec.keyframe_index = keyframe_index;
    const FlvFile f = make_flv_file(spec);
    const FlvKeyframeIndex index = index_of(f.bytes);
    for (size_t k = 0; k < f.keyframe_offsets.size(); ++k) {
      const uint64_t start = f.keyframe_offsets[k];
      const FlvSeekPlan p = plan(f.bytes, index, bytes_at(start));
      ASSERT_EQ(p.verdict, FlvSeekVerdict::kClip) << p.reason;
      EXPECT_EQ(p.start_ms, f.keyframe_times_ms[k]);
      // Header, onMetaData, AVC and AAC sequence headers (contiguous in the
      // file: one range), then the file from the keyframe on, byte-exact.
      Bytes expected = {'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0};
      const Bytes head = slice(f.bytes, 13, f.keyframe_offsets[0]);
      expected.insert(expected.end(), head.begin(), head.end());
      const Bytes tail = slice(f.bytes, start, f.bytes.size());
      expected.insert(expected.end(), tail.begin(), tail.end());
      const Bytes answer = assemble(p, f.bytes);
      EXPECT_EQ(answer, expected) << k;
      EXPECT_EQ(p.ranges.size(), k == 0 ? 1u : 2u);
      const std::vector<FlvTag> tags = demux(answer);
      ASSERT_GE(tags.size(), 4u);
      EXPECT_EQ(tags[0].type, kTagScript);
      EXPECT_EQ(tags[1].type, kTagVideo);
      EXPECT_EQ(tags[2].type, kTagAudio);
      EXPECT_TRUE(is_keyframe(tags[3]));
      EXPECT_EQ(tags[3].timestamp_ms, f.keyframe_times_ms[k]);
    }
  }
}

TEST(FlvSeek, ByteOffsetsThatAreNotSeekPoints) {
  const FlvFile f = make_flv_file();
  const FlvKeyframeIndex index = index_of(f.bytes);
  EXPECT_EQ(plan(f.bytes, index, bytes_at(0)).verdict, FlvSeekVerdict::kWholeFile);
  EXPECT_EQ(plan(f.bytes, index, bytes_at(13)).verdict, FlvSeekVerdict::kWholeFile);
  for (uint64_t start :
       {f.keyframe_offsets[1] + 1, f.audio_offsets[2], f.keyframe_offsets[1] - 4}) {
    const FlvSeekPlan p = plan(f.bytes, index, bytes_at(start));
    EXPECT_EQ(p.verdict, FlvSeekVerdict::kBadStart) << start;
    EXPECT_NE(p.reason.find("is not the byte offset of a video keyframe tag"), std::string::npos)
        << p.reason;
  }
  EXPECT_EQ(plan(f.bytes, index, bytes_at(f.bytes.size())).verdict, FlvSeekVerdict::kPastEnd);
  EXPECT_EQ(plan(f.bytes, index, bytes_at(uint64_t(-1))).verdict, FlvSeekVerdict::kPastEnd);
  // A stale index: the file no longer has a keyframe there.
  Bytes changed = f.bytes;
  changed[f.keyframe_offsets[2] + 11] = 0x27;
  const FlvSeekPlan stale = plan(changed, index, bytes_at(f.keyframe_offsets[2]));
  EXPECT_EQ(stale.verdict, FlvSeekVerdict::kBadStart);
  EXPECT_NE(stale.reason.find("no video keyframe tag at offset"), std::string::npos)
      << stale.reason;
  EXPECT_EQ(plan(changed, index, seconds(2.5)).verdict, FlvSeekVerdict::kCannotSeek);
}

TEST(FlvSeek, SecondsLandOnTheKeyframeAtOrBefore) {
  const FlvFile f = make_flv_file();  // keyframes at 0, 1000, ... 4000; last tag 4666 ms
  const FlvKeyframeIndex index = index_of(f.bytes);
  EXPECT_EQ(plan(f.bytes, index, seconds(0)).verdict, FlvSeekVerdict::kWholeFile);
  EXPECT_EQ(plan(f.bytes, index, seconds(0.999)).verdict, FlvSeekVerdict::kWholeFile);
  for (auto [start, keyframe] : std::vector<std::pair<double, size_t>>{
           {1.0, 1}, {1.5, 1}, {2.9999, 2}, {3.0, 3}, {4.666, 4}}) {
    const FlvSeekPlan p = plan(f.bytes, index, seconds(start));
    ASSERT_EQ(p.verdict, FlvSeekVerdict::kClip) << start << p.reason;
    EXPECT_EQ(p.start_ms, f.keyframe_times_ms[keyframe]) << start;
    const Bytes answer = assemble(p, f.bytes);
    EXPECT_EQ(slice(answer, answer.size() - (f.bytes.size() - f.keyframe_offsets[keyframe]),
                    answer.size()),
              slice(f.bytes, f.keyframe_offsets[keyframe], f.bytes.size()));
    const std::vector<FlvTag> tags = demux(answer);
    ASSERT_GE(tags.size(), 4u);
    EXPECT_TRUE(is_keyframe(tags[3]));
  }
  const FlvSeekPlan past = plan(f.bytes, index, seconds(4.667));
  EXPECT_EQ(past.verdict, FlvSeekVerdict::kPastEnd);
  EXPECT_EQ(past.reason, "start=4.667 s is past the file's last tag (4666 ms)");
}

TEST(FlvSeek, EndCutsBeforeTheFirstTagAtOrAfterIt) {
  const FlvFile f = make_flv_file();
  const FlvKeyframeIndex index = index_of(f.bytes);
  auto first_at_or_after = [&](uint64_t from, uint32_t ms) {
    for (size_t i = 0; i < f.tag_offsets.size(); ++i) {
      if (f.tag_offsets[i] >= from && f.tag_times_ms[i] >= ms) return f.tag_offsets[i];
    }
    return uint64_t{f.bytes.size()};
  };
  struct Case {
    double start, end;
    size_t keyframe;
    uint32_t end_ms;
  };
  for (const Case& c : std::vector<Case>{{1, 3, 1, 3000},
                                         {0, 1.5, 0, 1500},
                                         {2, 2.0001, 2, 2001},
                                         {2.5, 4.4, 2, 4400},
                                         {3, 99, 3, 100'000}}) {
    const FlvSeekPlan p = plan(f.bytes, index, seconds(c.start, c.end));
    ASSERT_EQ(p.verdict, FlvSeekVerdict::kClip) << c.start << p.reason;
    const uint64_t from = f.keyframe_offsets[c.keyframe];
    const uint64_t to = first_at_or_after(from, c.end_ms);
    EXPECT_EQ(p.ranges.back().offset + p.ranges.back().length, to) << c.end;
    const Bytes answer = assemble(p, f.bytes);
    EXPECT_EQ(slice(answer, answer.size() - (to - from), answer.size()), slice(f.bytes, from, to));
    const std::vector<FlvTag> tags = demux(answer);
    ASSERT_GE(tags.size(), 4u);
    EXPECT_TRUE(is_keyframe(tags[3]));
    for (size_t i = 3; i < tags.size(); ++i) EXPECT_LT(tags[i].timestamp_ms, c.end_ms);
  }
}

TEST(FlvSeek, SequenceHeadersAreTheLastOnesBeforeTheSeekPoint) {
  FlvFileSpec spec;
  spec.keyframe_index = false;  // a scan sees every sequence header
  spec.config_change_at_gop = 3;
  const FlvFile f = make_flv_file(spec);
  const FlvKeyframeIndex index = index_of(f.bytes);
  for (auto [keyframe, config] : std::vector<std::pair<size_t, size_t>>{{2, 0}, {4, 1}}) {
    const FlvSeekPlan p = plan(f.bytes, index, bytes_at(f.keyframe_offsets[keyframe]));
    ASSERT_EQ(p.verdict, FlvSeekVerdict::kClip) << p.reason;
    const std::vector<FlvTag> tags = demux(assemble(p, f.bytes));
    ASSERT_GE(tags.size(), 4u);
    // File order: onMetaData, audio config (13 + ...), then the video config.
    const uint64_t config_offset = f.video_config_offsets[config];
    const Bytes config_body =
        slice(f.bytes, config_offset + 11, config_offset + 11 + (config == 0 ? 20 : 24));
    bool found = false;
    for (size_t i = 0; i < 3; ++i) {
      if (tags[i].type == kTagVideo) {
        found = true;
        EXPECT_EQ(Bytes(tags[i].body.span().begin(), tags[i].body.span().end()), config_body);
      }
    }
    EXPECT_TRUE(found);
  }
}

TEST(FlvSeek, AudioOnlyFilesStartAtTheFirstAudioTagAtOrAfter) {
  FlvFileSpec spec;
  spec.video = false;
  const FlvFile f = make_flv_file(spec);
  const FlvKeyframeIndex index = index_of(f.bytes);
  EXPECT_EQ(plan(f.bytes, index, seconds(0)).verdict, FlvSeekVerdict::kWholeFile);
  const FlvSeekPlan p = plan(f.bytes, index, seconds(1.2));
  ASSERT_EQ(p.verdict, FlvSeekVerdict::kClip) << p.reason;
  EXPECT_EQ(p.start_ms, 1333u);
  const std::vector<FlvTag> tags = demux(assemble(p, f.bytes));
  ASSERT_GE(tags.size(), 3u);
  EXPECT_EQ(tags[0].type, kTagScript);
  EXPECT_EQ(tags[1].type, kTagAudio);  // the AAC sequence header
  EXPECT_EQ(tags[2].timestamp_ms, 1333u);
  EXPECT_EQ(assemble(p, f.bytes)[4], 0x04);  // TypeFlags: audio only
  // Nothing between start and end.
  EXPECT_EQ(plan(f.bytes, index, seconds(1.2, 1.3)).verdict, FlvSeekVerdict::kPastEnd);
  const FlvSeekPlan bytes = plan(f.bytes, index, bytes_at(f.audio_offsets[4]));
  EXPECT_EQ(bytes.verdict, FlvSeekVerdict::kClip) << bytes.reason;
}

TEST(FlvSeek, FilesThatCannotBeSeekedByTime) {
  Bytes backwards;
  write_file_header(false, true, backwards);
  write_tag(kTagVideo, 1000, testing::flv_video_body(1, 1, 8, 1), backwards);
  const uint64_t second = backwards.size();
  write_tag(kTagVideo, 500, testing::flv_video_body(1, 1, 8, 2), backwards);
  FlvKeyframeIndex index = index_of(backwards);
  FlvSeekPlan p = plan(backwards, index, seconds(0.7));
  EXPECT_EQ(p.verdict, FlvSeekVerdict::kCannotSeek);
  EXPECT_EQ(p.reason, "video keyframe timestamps go backwards (only byte offsets can be seeked)");
  EXPECT_EQ(plan(backwards, index, bytes_at(second)).verdict, FlvSeekVerdict::kClip);

  Bytes no_keyframes;
  write_file_header(false, true, no_keyframes);
  write_tag(kTagVideo, 0, testing::flv_video_body(2, 1, 8, 1), no_keyframes);
  index = index_of(no_keyframes);
  p = plan(no_keyframes, index, seconds(0));
  EXPECT_EQ(p.verdict, FlvSeekVerdict::kCannotSeek);
  EXPECT_EQ(p.reason, "no video keyframe tags");
}

}  // namespace
}  // namespace cascade::flv
