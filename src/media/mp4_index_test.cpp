#include "media/mp4_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_order.h"
#include "media/mp4_box_writer.h"
#include "media/test_corpus.h"

namespace cascade::media {
namespace {

using testing::Bytes;
using testing::concat;
using testing::save_seed;

// Fuzz input layout (fuzz/mp4_index_fuzz.cpp): one mode byte, then either a
// moov box (mode 0) or a whole file (mode 1).
constexpr uint8_t kSeedMoov = 0;
constexpr uint8_t kSeedFile = 1;
// The file size the fuzzer passes with a bare moov.
constexpr uint64_t kFuzzFileSize = 1 << 20;

void save_moov_seed(const std::string& name, std::span<const uint8_t> moov) {
  save_seed("mp4_index", name, concat({Bytes{kSeedMoov}, moov}));
}
void save_file_seed(const std::string& name, std::span<const uint8_t> file) {
  save_seed("mp4_index", name, concat({Bytes{kSeedFile}, file}));
}

// ---------------------------------------------------------------------------
// Synthetic files: ftyp, mdat, then moov, built from per-track tables. The
// defaults describe a valid track; the hostile cases below bend one table.

struct TrackSpec {
  uint32_t track_id = 1;
  uint32_t handler = box_type("vide");
  uint32_t timescale = 1000;
  uint8_t tkhd_version = 0;
  uint8_t mdhd_version = 0;
  std::vector<uint32_t> sizes = std::vector<uint32_t>(10, 100);
  std::optional<uint32_t> constant_size;  // stsz sample_size (then no table)
  std::optional<uint32_t> sample_count;   // overrides stsz sample_count
  std::vector<std::pair<uint32_t, uint32_t>> stts = {{10, 40}};
  std::optional<std::vector<std::pair<uint32_t, int32_t>>> ctts;
  uint8_t ctts_version = 0;
  std::optional<uint32_t> ctts_count;  // overrides the ctts entry_count
  std::optional<std::vector<uint32_t>> stss = std::vector<uint32_t>{1, 6};
  std::vector<std::array<uint32_t, 3>> stsc = {{1, 5, 1}};  // first_chunk, samples, desc
  std::optional<std::vector<uint64_t>> chunk_offsets;       // default: laid out in the mdat
  bool co64 = false;
  std::optional<Bytes> sdtp;
  std::optional<std::vector<Mp4Edit>> elst;
  uint8_t elst_version = 0;
  std::optional<uint32_t> elst_count;  // overrides the elst entry_count
  uint32_t dref_flags = 1;             // 1 = self-contained
  // Extra boxes appended to stbl (duplicates, unknown boxes).
  std::vector<Bytes> extra_stbl;
};

struct FileSpec {
  std::vector<TrackSpec> tracks = {TrackSpec{}};
  uint32_t movie_timescale = 1000;
  uint8_t mvhd_version = 0;
  bool mvex = false;
};

struct BuiltFile {
  Bytes file;
  Bytes moov;
  uint64_t moov_offset = 0;
};

// Samples per chunk from stsc, for laying chunks out.
std::vector<uint32_t> chunk_sample_counts(const TrackSpec& t, size_t chunk_count) {
  std::vector<uint32_t> counts(chunk_count, 0);
  for (size_t e = 0; e < t.stsc.size(); ++e) {
    const size_t end = e + 1 < t.stsc.size() ? t.stsc[e + 1][0] - 1 : chunk_count;
    for (size_t c = t.stsc[e][0] - 1; c < end && c < chunk_count; ++c) counts[c] = t.stsc[e][1];
  }
  return counts;
}

size_t default_chunk_count(const TrackSpec& t) {
  // Chunks until every sample has one, following stsc's last run.
  size_t samples = 0;
  size_t chunks = 0;
  const size_t n = t.sizes.size();
  while (samples < n) {
    uint32_t per_chunk = 1;
    for (const auto& e : t.stsc) {
      if (e[0] <= chunks + 1) per_chunk = e[1];
    }
    samples += per_chunk ? per_chunk : 1;
    ++chunks;
  }
  return chunks;
}

void write_track(Mp4BoxWriter& w, const TrackSpec& t, const std::vector<uint64_t>& offsets) {
  const size_t trak = w.begin_box(box_type("trak"));
  size_t box = w.begin_full_box(box_type("tkhd"), t.tkhd_version, 3);
  if (t.tkhd_version == 1) {
    w.u64be(0);
    w.u64be(0);
    w.u32be(t.track_id);
    w.u32be(0);
    w.u64be(400);
  } else {
    w.u32be(0);
    w.u32be(0);
    w.u32be(t.track_id);
    w.u32be(0);
    w.u32be(400);
  }
  w.zeros(8 + 8);  // reserved, layer, alternate_group, volume, reserved
  for (uint32_t m : {0x10000u, 0u, 0u, 0u, 0x10000u, 0u, 0u, 0u, 0x40000000u}) w.u32be(m);
  w.u32be(320 << 16);
  w.u32be(240 << 16);
  w.end_box(box);
  if (t.elst) {
    const size_t edts = w.begin_box(box_type("edts"));
    box = w.begin_full_box(box_type("elst"), t.elst_version, 0);
    w.u32be(t.elst_count.value_or(static_cast<uint32_t>(t.elst->size())));
    for (const Mp4Edit& e : *t.elst) {
      if (t.elst_version == 1) {
        w.u64be(e.segment_duration);
        w.u64be(static_cast<uint64_t>(e.media_time));
      } else {
        w.u32be(static_cast<uint32_t>(e.segment_duration));
        w.u32be(static_cast<uint32_t>(e.media_time));
      }
      w.u32be(static_cast<uint32_t>(e.media_rate));
    }
    w.end_box(box);
    w.end_box(edts);
  }
  const size_t mdia = w.begin_box(box_type("mdia"));
  box = w.begin_full_box(box_type("mdhd"), t.mdhd_version, 0);
  if (t.mdhd_version == 1) {
    w.u64be(0);
    w.u64be(0);
    w.u32be(t.timescale);
    w.u64be(400);
  } else {
    w.u32be(0);
    w.u32be(0);
    w.u32be(t.timescale);
    w.u32be(400);
  }
  w.u16be(0x55C4);  // "und"
  w.u16be(0);
  w.end_box(box);
  box = w.begin_full_box(box_type("hdlr"), 0, 0);
  w.u32be(0);
  w.u32be(t.handler);
  w.zeros(12);
  w.string("test");
  w.u8(0);
  w.end_box(box);
  const size_t minf = w.begin_box(box_type("minf"));
  box = w.begin_full_box(box_type(t.handler == box_type("soun") ? "smhd" : "vmhd"), 0, 1);
  w.zeros(t.handler == box_type("soun") ? 4 : 8);
  w.end_box(box);
  const size_t dinf = w.begin_box(box_type("dinf"));
  const size_t dref = w.begin_full_box(box_type("dref"), 0, 0);
  w.u32be(1);
  w.end_box(w.begin_full_box(box_type("url "), 0, t.dref_flags));
  w.end_box(dref);
  w.end_box(dinf);
  const size_t stbl = w.begin_box(box_type("stbl"));
  box = w.begin_full_box(box_type("stsd"), 0, 0);
  w.u32be(1);
  const size_t entry = w.begin_box(box_type(t.handler == box_type("soun") ? "mp4a" : "avc1"));
  w.zeros(8);
  w.end_box(entry);
  w.end_box(box);
  box = w.begin_full_box(box_type("stts"), 0, 0);
  w.u32be(static_cast<uint32_t>(t.stts.size()));
  for (auto [count, delta] : t.stts) {
    w.u32be(count);
    w.u32be(delta);
  }
  w.end_box(box);
  if (t.ctts) {
    box = w.begin_full_box(box_type("ctts"), t.ctts_version, 0);
    w.u32be(t.ctts_count.value_or(static_cast<uint32_t>(t.ctts->size())));
    for (auto [count, offset] : *t.ctts) {
      w.u32be(count);
      w.u32be(static_cast<uint32_t>(offset));
    }
    w.end_box(box);
  }
  if (t.stss) {
    box = w.begin_full_box(box_type("stss"), 0, 0);
    w.u32be(static_cast<uint32_t>(t.stss->size()));
    for (uint32_t n : *t.stss) w.u32be(n);
    w.end_box(box);
  }
  box = w.begin_full_box(box_type("stsc"), 0, 0);
  w.u32be(static_cast<uint32_t>(t.stsc.size()));
  for (const auto& e : t.stsc) {
    for (uint32_t v : e) w.u32be(v);
  }
  w.end_box(box);
  box = w.begin_full_box(box_type("stsz"), 0, 0);
  w.u32be(t.constant_size.value_or(0));
  w.u32be(t.sample_count.value_or(static_cast<uint32_t>(t.sizes.size())));
  if (!t.constant_size) {
    for (uint32_t s : t.sizes) w.u32be(s);
  }
  w.end_box(box);
  box = w.begin_full_box(box_type(t.co64 ? "co64" : "stco"), 0, 0);
  w.u32be(static_cast<uint32_t>(offsets.size()));
  for (uint64_t o : offsets) {
    if (t.co64) {
      w.u64be(o);
    } else {
      w.u32be(static_cast<uint32_t>(o));
    }
  }
  w.end_box(box);
  if (t.sdtp) {
    box = w.begin_full_box(box_type("sdtp"), 0, 0);
    w.bytes(*t.sdtp);
    w.end_box(box);
  }
  for (const Bytes& extra : t.extra_stbl) w.bytes(extra);
  w.end_box(stbl);
  w.end_box(minf);
  w.end_box(mdia);
  w.end_box(trak);
}

// Sample bytes: track k's sample i is filled with (k * 64 + i) & 0xFF.
BuiltFile build_file(const FileSpec& spec) {
  BuiltFile out;
  Mp4BoxWriter w(out.file);
  const size_t ftyp = w.begin_box(box_type("ftyp"));
  w.u32be(box_type("isom"));
  w.u32be(0x200);
  w.u32be(box_type("isom"));
  w.end_box(ftyp);
  const size_t mdat = w.begin_box(box_type("mdat"));
  std::vector<std::vector<uint64_t>> offsets;
  for (size_t k = 0; k < spec.tracks.size(); ++k) {
    const TrackSpec& t = spec.tracks[k];
    if (t.chunk_offsets) {
      offsets.push_back(*t.chunk_offsets);
      continue;
    }
    const auto counts = chunk_sample_counts(t, default_chunk_count(t));
    std::vector<uint64_t> track_offsets;
    size_t sample = 0;
    for (uint32_t count : counts) {
      track_offsets.push_back(out.file.size());
      for (uint32_t i = 0; i < count && sample < t.sizes.size(); ++i, ++sample) {
        out.file.insert(out.file.end(), t.sizes[sample], static_cast<uint8_t>(k * 64 + sample));
      }
    }
    offsets.push_back(track_offsets);
  }
  w.end_box(mdat);
  out.moov_offset = out.file.size();
  Mp4BoxWriter m(out.moov);
  const size_t moov = m.begin_box(box_type("moov"));
  const size_t mvhd = m.begin_full_box(box_type("mvhd"), spec.mvhd_version, 0);
  if (spec.mvhd_version == 1) {
    m.u64be(0);
    m.u64be(0);
    m.u32be(spec.movie_timescale);
    m.u64be(400);
  } else {
    m.u32be(0);
    m.u32be(0);
    m.u32be(spec.movie_timescale);
    m.u32be(400);
  }
  m.u32be(0x10000);
  m.u16be(0x100);
  m.zeros(10);
  for (uint32_t v : {0x10000u, 0u, 0u, 0u, 0x10000u, 0u, 0u, 0u, 0x40000000u}) m.u32be(v);
  m.zeros(24);
  m.u32be(static_cast<uint32_t>(spec.tracks.size() + 1));
  m.end_box(mvhd);
  for (size_t k = 0; k < spec.tracks.size(); ++k) write_track(m, spec.tracks[k], offsets[k]);
  if (spec.mvex) m.end_box(m.begin_box(box_type("mvex")));
  m.end_box(moov);
  out.file.insert(out.file.end(), out.moov.begin(), out.moov.end());
  return out;
}

Result<Mp4Index> parse(const BuiltFile& built, const Mp4Limits& limits = {}) {
  return parse_mp4_moov(built.moov, built.file.size(), limits);
}

// ---------------------------------------------------------------------------
// Valid files.

TEST(Mp4Index, ParsesSyntheticTrack) {
  FileSpec spec;
  TrackSpec& t = spec.tracks[0];
  t.sizes = {100, 20, 30, 40, 50, 60, 70, 80, 90, 10};
  t.stts = {{4, 40}, {0, 99}, {6, 40}};  // a zero-count entry is skipped
  t.ctts = std::vector<std::pair<uint32_t, int32_t>>{{1, 80}, {1, 120}, {8, 0}};
  t.stsc = {{1, 3, 1}, {3, 4, 1}};  // chunks of 3, 3, 4
  t.sdtp = Bytes(10, 0x10);
  t.elst = std::vector<Mp4Edit>{{500, -1, 0x10000}, {400, 80, 0x10000}};
  const BuiltFile built = build_file(spec);
  save_moov_seed("valid_video", built.moov);
  save_file_seed("valid_video_file", built.file);

  auto index = parse(built);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->movie_timescale, 1000u);
  EXPECT_EQ(index->movie_duration, 400u);
  ASSERT_EQ(index->tracks.size(), 1u);
  const Mp4Track& track = index->tracks[0];
  EXPECT_EQ(track.kind, Mp4TrackKind::kVideo);
  EXPECT_EQ(track.track_id, 1u);
  EXPECT_EQ(track.width, 320u);
  EXPECT_EQ(track.height, 240u);
  EXPECT_EQ(track.timescale, 1000u);
  EXPECT_EQ(track.language, 0x55C4);
  ASSERT_EQ(track.sample_count(), 10u);
  EXPECT_EQ(track.chunk_count(), 3u);
  ASSERT_EQ(track.chunk_runs.size(), 2u);
  EXPECT_EQ(track.chunk_runs[1].first_chunk, 2u);
  EXPECT_EQ(track.chunk_runs[1].first_sample, 6u);
  EXPECT_EQ(track.chunk_runs[1].samples_per_chunk, 4u);
  EXPECT_TRUE(track.chunks_in_file_order);
  EXPECT_EQ(track.chunk_of_sample(5), 1u);
  EXPECT_EQ(track.chunk_of_sample(6), 2u);
  EXPECT_EQ(track.chunk_of_sample(9), 2u);
  EXPECT_EQ(track.stts.size(), 2u);
  EXPECT_EQ(track.media_duration, 400u);
  EXPECT_EQ(track.media_start, 80);
  EXPECT_EQ(track.empty_duration, 500u);
  EXPECT_EQ(track.min_cts_offset, 0);
  EXPECT_EQ(track.max_cts_offset, 120);
  EXPECT_EQ(track.presentation_end, 400);
  EXPECT_FALSE(track.ctts_signed);
  EXPECT_EQ(track.sdtp.size(), 10u);
  EXPECT_EQ(track.sync_samples, (std::vector<uint32_t>{0, 5}));
  // The samples follow the ftyp (20 bytes) and mdat header (8), in order.
  uint64_t offset = 28;
  for (size_t i = 0; i < 10; ++i) {
    const Mp4Sample s = track.sample(i);
    EXPECT_EQ(s.offset, offset) << i;
    EXPECT_EQ(s.size, t.sizes[i]) << i;
    EXPECT_EQ(s.dts, int64_t(40 * i)) << i;
    EXPECT_EQ(s.sync, i == 0 || i == 5) << i;
    offset += s.size;
  }
  EXPECT_EQ(track.sample(0).cts_offset, 80);
  EXPECT_EQ(track.sample(1).cts_offset, 120);
  EXPECT_EQ(track.sample(2).cts_offset, 0);
  // Copied boxes keep their type and an 8-byte header.
  ASSERT_GE(track.stsd.size(), 16u);
  EXPECT_EQ(load_u32be(track.stsd.data() + 4), box_type("stsd"));
  EXPECT_EQ(load_u32be(track.stsd.data()), track.stsd.size());
  EXPECT_EQ(load_u32be(track.tkhd.data() + 4), box_type("tkhd"));
  EXPECT_EQ(load_u32be(track.dinf.data() + 4), box_type("dinf"));
  EXPECT_EQ(load_u32be(track.media_header.data() + 4), box_type("vmhd"));
  EXPECT_GT(index->memory_bytes(), 10u * 25);
}

TEST(Mp4Index, VersionOneBoxesConstantSizeAndCo64) {
  FileSpec spec;
  spec.mvhd_version = 1;
  TrackSpec& t = spec.tracks[0];
  t.handler = box_type("soun");
  t.timescale = 48000;
  t.tkhd_version = 1;
  t.mdhd_version = 1;
  t.sizes = std::vector<uint32_t>(8, 6);
  t.constant_size = 6;
  t.stts = {{8, 1024}};
  t.stss.reset();
  t.stsc = {{1, 8, 1}};
  t.co64 = true;
  t.ctts = std::vector<std::pair<uint32_t, int32_t>>{{8, -2}};
  t.ctts_version = 1;
  t.elst = std::vector<Mp4Edit>{{1000, 1024, 0x10000}};
  t.elst_version = 1;
  const BuiltFile built = build_file(spec);
  save_moov_seed("valid_audio_v1", built.moov);
  auto index = parse(built);
  ASSERT_TRUE(index.ok()) << index.error().message;
  const Mp4Track& track = index->tracks[0];
  EXPECT_EQ(track.kind, Mp4TrackKind::kAudio);
  EXPECT_EQ(track.sample_count(), 8u);
  EXPECT_TRUE(track.all_sync);
  EXPECT_TRUE(track.ctts_signed);
  EXPECT_EQ(track.min_cts_offset, -2);
  EXPECT_EQ(track.media_start, 1024);
  EXPECT_EQ(track.sample(7).offset, 28u + 7 * 6);
  EXPECT_EQ(track.sample(7).dts, 7 * 1024);
  EXPECT_TRUE(track.sample(3).sync);
}

TEST(Mp4Index, ParsesStz2) {
  FileSpec spec;
  const BuiltFile base = build_file(spec);
  // Replace stsz by stz2 with 8-bit fields: rebuild the stbl by hand is
  // heavy, so append an stz2 to a track whose stsz is swapped out by type.
  Bytes moov = base.moov;
  // Find "stsz" and rename it "stz2" with field_size 16: sizes are 100, so a
  // 32-bit table reinterpreted as 16-bit holds 0,100,0,100,... (20 entries).
  for (size_t i = 4; i + 4 <= moov.size(); ++i) {
    if (load_u32be(moov.data() + i) == box_type("stsz")) {
      store_u32be(moov.data() + i, box_type("stz2"));
      // version/flags, then reserved(24) + field_size(8) = 16, sample_count 10.
      store_u32be(moov.data() + i + 8, 16);
      break;
    }
  }
  auto index = parse_mp4_moov(moov, base.file.size());
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->tracks[0].sample_sizes,
            (std::vector<uint32_t>{0, 100, 0, 100, 0, 100, 0, 100, 0, 100}));
}

// ---------------------------------------------------------------------------
// Hostile moovs: each a clear error, no crash (the nginx mp4 module's CVE
// class). Every case is also a fuzz seed.

struct HostileCase {
  const char* name;
  std::function<void(FileSpec&)> bend;
  const char* error;  // a substring of the message
};

const std::vector<HostileCase>& hostile_cases() {
  static const std::vector<HostileCase> cases = {
      {"stsz_count_not_stts_total",
       [](FileSpec& f) {
         f.tracks[0].stts = {{9, 40}};
       },
       "stts describes 9 samples, stsz 10"},
      {"stts_longer_than_stsz",
       [](FileSpec& f) {
         f.tracks[0].stts = {{10, 40}, {5, 40}};
       },
       "stts describes more than"},
      {"stsc_first_chunk_zero",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{0, 5, 1}};
       },
       "first_chunk of the first entry is 0"},
      {"stsc_first_chunk_decreasing",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{1, 2, 1}, {3, 2, 1}, {2, 2, 1}};
         f.tracks[0].chunk_offsets = std::vector<uint64_t>{28, 228, 428, 628, 828};
       },
       "not increasing"},
      {"stsc_first_chunk_past_chunks",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{1, 5, 1}, {7, 5, 1}};
         f.tracks[0].chunk_offsets = std::vector<uint64_t>{28, 528};
       },
       "past the 2 chunks"},
      {"stsc_samples_per_chunk_zero",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{1, 0, 1}};
       },
       "samples_per_chunk is 0"},
      {"stsc_bad_description_index",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{1, 5, 2}};
       },
       "sample_description_index 2"},
      {"stsc_more_samples_than_stsz",
       [](FileSpec& f) {
         f.tracks[0].stsc = {{1, 6, 1}};
         f.tracks[0].sizes = std::vector<uint32_t>(10, 1);
         f.tracks[0].chunk_offsets = std::vector<uint64_t>{28, 34};
       },
       "more than the 10 samples"},
      {"stsc_fewer_samples_than_stsz",
       [](FileSpec& f) { f.tracks[0].chunk_offsets = std::vector<uint64_t>{28}; },
       "describe 5 samples, stsz 10"},
      {"chunk_offset_past_eof",
       [](FileSpec& f) {
         f.tracks[0].chunk_offsets = std::vector<uint64_t>{28, 5000000};
       },
       "ends past the file"},
      {"chunk_offset_64bit_past_eof",
       [](FileSpec& f) {
         f.tracks[0].co64 = true;
         f.tracks[0].chunk_offsets = std::vector<uint64_t>{28, ~uint64_t{0} - 10};
       },
       "ends past the file"},
      {"sample_count_2e32", [](FileSpec& f) { f.tracks[0].sample_count = 0xFFFFFFFF; },
       "sample_count 4294967295 exceeds the limit"},
      {"constant_size_samples_past_file",
       [](FileSpec& f) {
         f.tracks[0].constant_size = 1000;
         f.tracks[0].sample_count = 5000;
       },
       "exceed the file size"},
      {"stsz_table_truncated", [](FileSpec& f) { f.tracks[0].sample_count = 100000; },
       "does not fit in its box"},
      {"ctts_longer_than_samples",
       [](FileSpec& f) {
         f.tracks[0].ctts = std::vector<std::pair<uint32_t, int32_t>>{{11, 0}};
       },
       "ctts describes more than"},
      {"ctts_huge_entry_count",
       [](FileSpec& f) {
         f.tracks[0].ctts = std::vector<std::pair<uint32_t, int32_t>>{{10, 0}};
         f.tracks[0].ctts_count = 0xFFFFFFFF;
       },
       "ctts entry_count 4294967295 does not fit"},
      {"ctts_empty_is_valid",
       [](FileSpec& f) { f.tracks[0].ctts = std::vector<std::pair<uint32_t, int32_t>>{}; },
       ""},  // all offsets 0
      {"stss_index_zero", [](FileSpec& f) { f.tracks[0].stss = std::vector<uint32_t>{0}; },
       "stss sample_number 0 is outside 1..10"},
      {"stss_index_past_count", [](FileSpec& f) { f.tracks[0].stss = std::vector<uint32_t>{11}; },
       "stss sample_number 11 is outside"},
      {"stss_not_increasing",
       [](FileSpec& f) {
         f.tracks[0].stss = std::vector<uint32_t>{6, 1};
       },
       "not increasing"},
      {"stss_more_entries_than_samples",
       [](FileSpec& f) { f.tracks[0].stss = std::vector<uint32_t>(11, 1); },
       "stss has 11 entries for 10 samples"},
      {"elst_huge_count",
       [](FileSpec& f) {
         f.tracks[0].elst = std::vector<Mp4Edit>{{400, 0, 0x10000}};
         f.tracks[0].elst_count = 0x7FFFFFFF;
       },
       "elst entry_count 2147483647 exceeds the limit"},
      {"elst_count_past_box",
       [](FileSpec& f) {
         f.tracks[0].elst = std::vector<Mp4Edit>{{400, 0, 0x10000}};
         f.tracks[0].elst_count = 50;
       },
       "elst entry_count 50 does not fit"},
      {"elst_negative_media_time",
       [](FileSpec& f) {
         f.tracks[0].elst = std::vector<Mp4Edit>{{400, -5, 0x10000}};
       },
       "media_time -5 is negative"},
      {"sdtp_wrong_length", [](FileSpec& f) { f.tracks[0].sdtp = Bytes(9, 0); },
       "sdtp has 9 entries for 10 samples"},
      {"external_data_reference", [](FileSpec& f) { f.tracks[0].dref_flags = 0; },
       "points outside the file"},
      {"duplicate_stts",
       [](FileSpec& f) {
         f.tracks[0].extra_stbl = {
             testing::bytes({0, 0, 0, 16, 's', 't', 't', 's', 0, 0, 0, 0, 0, 0, 0, 0})};
       },
       "duplicate 'stts' box"},
      {"both_stco_and_co64",
       [](FileSpec& f) {
         f.tracks[0].extra_stbl = {
             testing::bytes({0, 0, 0, 16, 'c', 'o', '6', '4', 0, 0, 0, 0, 0, 0, 0, 0})};
       },
       "both stco and co64"},
      {"duplicate_track_id", [](FileSpec& f) { f.tracks.push_back(f.tracks[0]); },
       "two tracks with track_ID 1"},
      {"track_id_zero", [](FileSpec& f) { f.tracks[0].track_id = 0; }, "tkhd track_ID is 0"},
      {"mdhd_timescale_zero", [](FileSpec& f) { f.tracks[0].timescale = 0; },
       "mdhd timescale is 0"},
      {"mvhd_timescale_zero", [](FileSpec& f) { f.movie_timescale = 0; }, "mvhd timescale is 0"},
  };
  return cases;
}

TEST(Mp4Index, HostileTablesAreClearErrors) {
  for (const HostileCase& c : hostile_cases()) {
    SCOPED_TRACE(c.name);
    FileSpec spec;
    c.bend(spec);
    const BuiltFile built = build_file(spec);
    save_moov_seed(std::string("hostile_") + c.name, built.moov);
    auto index = parse(built);
    if (*c.error == '\0') {
      EXPECT_TRUE(index.ok()) << index.error().message;
      continue;
    }
    ASSERT_FALSE(index.ok());
    EXPECT_NE(index.error().message.find(c.error), std::string::npos) << index.error().message;
  }
}

TEST(Mp4Index, LimitsAreCheckedBeforeAllocating) {
  FileSpec spec;
  spec.tracks[0].sizes = std::vector<uint32_t>(2000, 1);
  spec.tracks[0].stts = {{2000, 1}};
  spec.tracks[0].stsc = {{1, 1000, 1}};
  spec.tracks[0].stss.reset();
  const BuiltFile built = build_file(spec);
  Mp4Limits limits;
  limits.max_samples_per_track = 1999;
  auto index = parse(built, limits);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("exceeds the limit of 1999"), std::string::npos);

  limits = {};
  limits.max_total_samples = 3000;
  spec.tracks.push_back(spec.tracks[0]);
  spec.tracks[1].track_id = 2;
  index = parse(build_file(spec), limits);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("4000 samples in the file exceed"), std::string::npos);

  limits = {};
  limits.max_moov_size = built.moov.size() - 1;
  index = parse(built, limits);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("exceeds the limit"), std::string::npos);

  limits = {};
  limits.max_tracks = 1;
  index = parse(build_file(spec), limits);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("more than 1 tracks"), std::string::npos);
}

// Byte-level damage: box sizes and truncation.
TEST(Mp4Index, DamagedBoxesAreClearErrors) {
  const BuiltFile built = build_file(FileSpec{});
  const Bytes& moov = built.moov;
  auto find = [&](const char(&name)[5]) {
    for (size_t i = 4; i + 4 <= moov.size(); ++i) {
      if (load_u32be(moov.data() + i) == box_type(name)) return i - 4;
    }
    ADD_FAILURE() << name;
    return size_t{0};
  };
  struct Case {
    std::string name;
    Bytes bytes;
    const char* error;
  };
  std::vector<Case> cases;
  for (size_t cut :
       {size_t{0}, size_t{4}, size_t{7}, moov.size() / 3, moov.size() / 2, moov.size() - 1}) {
    Bytes truncated(moov.begin(), moov.begin() + static_cast<ptrdiff_t>(cut));
    // The moov header still claims the full size: the walk must notice.
    cases.push_back({"truncated_" + std::to_string(cut), truncated, ""});
  }
  Bytes small = moov;
  store_u32be(small.data() + find("stsz"), 4);
  cases.push_back({"box_size_below_header", small, "smaller than its header"});
  Bytes large = moov;
  store_u32be(large.data() + find("stts"), 0x7FFFFFFF);
  cases.push_back({"box_size_past_parent", large, "runs past its parent"});
  Bytes largesize_small = moov;
  store_u32be(largesize_small.data() + find("tkhd"), 1);  // largesize follows: the version/flags
  cases.push_back({"largesize_garbage", largesize_small, ""});
  Bytes zero = moov;
  store_u32be(zero.data() + find("stsd"), 0);  // to the end of stbl: swallows the tables
  cases.push_back({"size_zero_swallows_siblings", zero, "no stts box"});
  Bytes not_moov = moov;
  store_u32be(not_moov.data() + 4, box_type("free"));
  cases.push_back({"not_moov", not_moov, "'free' is not moov"});
  Bytes cmov = moov;
  store_u32be(cmov.data() + find("mvhd") + 4, box_type("cmov"));
  cases.push_back({"compressed_moov", cmov, "compressed moov"});
  Bytes short_mvhd = moov;
  store_u32be(short_mvhd.data() + find("mvhd"), 12);  // and the rest becomes garbage boxes
  cases.push_back({"short_mvhd", short_mvhd, ""});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    save_moov_seed("damaged_" + c.name, c.bytes);
    auto index = parse_mp4_moov(c.bytes, built.file.size());
    ASSERT_FALSE(index.ok());
    EXPECT_NE(index.error().message.find(c.error), std::string::npos) << index.error().message;
  }
}

// ---------------------------------------------------------------------------
// scan_mp4 over in-memory files.

Bytes box(uint32_t type, size_t payload_size) {
  Bytes out(8 + payload_size, 0);
  store_u32be(out.data(), static_cast<uint32_t>(out.size()));
  store_u32be(out.data() + 4, type);
  return out;
}

TEST(Mp4Scan, FindsTopLevelBoxes) {
  const BuiltFile built = build_file(FileSpec{});
  Mp4MemorySource source(built.file);
  auto layout = scan_mp4(source);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_EQ(layout->file_size, built.file.size());
  ASSERT_TRUE(layout->ftyp && layout->moov);
  EXPECT_EQ(layout->ftyp->offset, 0u);
  EXPECT_EQ(layout->moov->offset, built.moov_offset);
  EXPECT_EQ(layout->moov->size, built.moov.size());
  ASSERT_EQ(layout->mdats.size(), 1u);
  EXPECT_EQ(layout->mdats[0].payload_offset(), 28u);
  EXPECT_FALSE(layout->moov_first());
  EXPECT_FALSE(layout->fragmented);

  auto index = read_mp4_index(source, *layout);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->ftyp.size(), 20u);
  EXPECT_EQ(index->tracks.size(), 1u);
}

TEST(Mp4Scan, LargesizeAndSizeZero) {
  // ftyp, an mdat with a 64-bit largesize, a moov, then a 'free' of size 0.
  Bytes mdat = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 0, 0, 0, 0, 20, 1, 2, 3, 4};
  Bytes tail = box(box_type("free"), 5);
  store_u32be(tail.data(), 0);
  const Bytes file = concat({box(box_type("ftyp"), 8), mdat, box(box_type("moov"), 0), tail});
  save_file_seed("scan_largesize_size0", file);
  Mp4MemorySource source(file);
  auto layout = scan_mp4(source);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  ASSERT_EQ(layout->mdats.size(), 1u);
  EXPECT_EQ(layout->mdats[0].header_size, 16u);
  EXPECT_EQ(layout->mdats[0].size, 20u);
  EXPECT_EQ(layout->mdats[0].payload_offset(), 32u);
  EXPECT_EQ(layout->moov->offset, 36u);
}

TEST(Mp4Scan, FragmentedFileIsReported) {
  const Bytes file = concat({box(box_type("ftyp"), 8), box(box_type("moov"), 8),
                             box(box_type("moof"), 8), box(box_type("mdat"), 8)});
  save_file_seed("scan_fragmented", file);
  Mp4MemorySource source(file);
  auto layout = scan_mp4(source);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_TRUE(layout->fragmented);
  EXPECT_TRUE(layout->moov_first());
  auto index = read_mp4_index(source, *layout);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("fragmented"), std::string::npos);

  // An mvex in the moov says the same.
  FileSpec spec;
  spec.mvex = true;
  auto parsed = parse(build_file(spec));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->fragmented);
}

TEST(Mp4Scan, HostileLayoutsAreClearErrors) {
  struct Case {
    const char* name;
    Bytes file;
    const char* error;
  };
  Bytes loop = box(box_type("free"), 0);
  store_u32be(loop.data(), 0x00000004);  // a size below the header would never advance
  Bytes past = box(box_type("mdat"), 8);
  store_u32be(past.data(), 1000);
  Bytes large_past = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0xFF, 0, 0, 0, 0, 0, 0, 0};
  Bytes large_small = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 0, 0, 0, 0, 8};
  const std::vector<Case> cases = {
      {"size_below_header", concat({box(box_type("ftyp"), 8), loop}), "smaller than its header"},
      {"size_past_eof", concat({box(box_type("ftyp"), 8), past}), "runs past the end"},
      {"largesize_past_eof", large_past, "runs past the end"},
      {"largesize_below_header", large_small, "smaller than its header"},
      {"truncated_header", concat({box(box_type("ftyp"), 8), Bytes{0, 0, 0}}), "trailing bytes"},
      {"truncated_largesize", Bytes{0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0}, "truncated largesize"},
      {"two_moovs", concat({box(box_type("moov"), 0), box(box_type("moov"), 0)}), "two moov"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    save_file_seed(std::string("scan_") + c.name, c.file);
    Mp4MemorySource source(c.file);
    auto layout = scan_mp4(source);
    ASSERT_FALSE(layout.ok());
    EXPECT_NE(layout.error().message.find(c.error), std::string::npos) << layout.error().message;
  }
  // Many tiny boxes: bounded by max_top_level_boxes.
  Bytes many;
  for (int i = 0; i < 20; ++i) many = concat({many, box(box_type("free"), 0)});
  Mp4MemorySource source(many);
  Mp4Limits limits;
  limits.max_top_level_boxes = 10;
  auto layout = scan_mp4(source, limits);
  ASSERT_FALSE(layout.ok());
  EXPECT_NE(layout.error().message.find("more than 10 top-level boxes"), std::string::npos);
  // No moov: scanning succeeds, reading the index does not.
  const Bytes no_moov = concat({box(box_type("ftyp"), 8), box(box_type("mdat"), 8)});
  Mp4MemorySource no_moov_source(no_moov);
  layout = scan_mp4(no_moov_source);
  ASSERT_TRUE(layout.ok());
  auto index = read_mp4_index(no_moov_source, *layout);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("no moov"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Real files from FFmpeg, checked packet by packet against ffprobe.
// Skipped without ffmpeg/ffprobe (or an ffmpeg without libx264).

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, output};
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  return {pclose(pipe), output};
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct ProbePacket {
  int stream = 0;
  int64_t pts = 0;
  int64_t dts = 0;
  uint64_t size = 0;
  uint64_t pos = 0;
  bool key = false;
};

// ffprobe's packets in file order per stream. Its pts/dts are in the stream
// time base (the mdhd timescale) and already shifted by the edit list.
std::vector<ProbePacket> probe_packets(const std::string& path) {
  const auto [status, output] = run(
      "ffprobe -v error -show_entries packet=stream_index,pts,dts,size,pos,flags -of csv=p=0 '" +
      path + "' 2>&1");
  EXPECT_EQ(status, 0) << output;
  std::vector<ProbePacket> packets;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
    if (f.size() < 6) continue;
    packets.push_back({std::stoi(f[0]), std::stoll(f[1]), std::stoll(f[2]), std::stoull(f[3]),
                       std::stoull(f[4]), f[5].find('K') != std::string::npos});
  }
  return packets;
}

class Mp4IndexFfmpeg : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_path("ffmpeg") || !on_path("ffprobe")) GTEST_SKIP() << "ffmpeg/ffprobe not on PATH";
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("mp4_index_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(Mp4IndexFfmpeg, MatchesFfprobePacketForPacket) {
  for (const char* movflags : {"+faststart", "-faststart"}) {
    SCOPED_TRACE(movflags);
    const std::string path = (dir_ / "av.mp4").string();
    const auto [status, output] =
        run(std::string("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=25 ") +
            "-f lavfi -i sine=frequency=440:sample_rate=44100 -f lavfi -i "
            "sine=frequency=880:sample_rate=22050 -map 0 -map 1 -map 2 -t 3 -c:v libx264 "
            "-preset veryfast -bf 2 -g 25 -c:a aac -movflags " +
            movflags + " '" + path + "' 2>&1");
    if (status != 0) GTEST_SKIP() << "ffmpeg cannot encode H.264/AAC: " << output;
    const Bytes file = read_file(path);
    Mp4MemorySource source(file);
    auto layout = scan_mp4(source);
    ASSERT_TRUE(layout.ok()) << layout.error().message;
    EXPECT_EQ(layout->moov_first(), std::string(movflags) == "+faststart");
    auto index = read_mp4_index(source, *layout);
    ASSERT_TRUE(index.ok()) << index.error().message;
    ASSERT_EQ(index->tracks.size(), 3u);
    EXPECT_EQ(index->tracks[0].kind, Mp4TrackKind::kVideo);
    EXPECT_EQ(index->tracks[1].kind, Mp4TrackKind::kAudio);
    EXPECT_EQ(index->tracks[2].kind, Mp4TrackKind::kAudio);
    EXPECT_EQ(index->tracks[0].width, 160u);
    EXPECT_FALSE(index->tracks[0].ctts.empty()) << "expected B-frames";

    std::map<int, std::vector<ProbePacket>> by_stream;
    for (const ProbePacket& p : probe_packets(path)) by_stream[p.stream].push_back(p);
    for (size_t k = 0; k < 3; ++k) {
      SCOPED_TRACE(k);
      const Mp4Track& track = index->tracks[k];
      const auto& packets = by_stream[static_cast<int>(k)];
      ASSERT_EQ(packets.size(), track.sample_count());
      // ffprobe's timestamps: ours minus the edit list's media_time.
      for (size_t i = 0; i < packets.size(); ++i) {
        const Mp4Sample s = track.sample(i);
        ASSERT_EQ(packets[i].pos, s.offset) << i;
        ASSERT_EQ(packets[i].size, s.size) << i;
        ASSERT_EQ(packets[i].dts, s.dts - track.media_start) << i;
        ASSERT_EQ(packets[i].pts, s.dts + s.cts_offset - track.media_start) << i;
        ASSERT_EQ(packets[i].key, s.sync) << i;
      }
    }
  }
}

// A tiny real moov as a fuzz seed (the fuzzer starts from real structure:
// avcC/esds sample entries, ctts, elst, sgpd...).
TEST_F(Mp4IndexFfmpeg, TinyRealMoovSeed) {
  const std::string path = (dir_ / "tiny.mp4").string();
  const auto [status, output] =
      run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=32x32:rate=10 -f lavfi -i "
          "sine=sample_rate=8000 -t 0.5 -c:v libx264 -bf 2 -g 4 -c:a aac -b:a 16k '" +
          path + "' 2>&1");
  if (status != 0) GTEST_SKIP() << "ffmpeg cannot encode H.264/AAC: " << output;
  const Bytes file = read_file(path);
  Mp4MemorySource source(file);
  auto layout = scan_mp4(source);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  ASSERT_TRUE(layout->moov);
  const Bytes moov(file.begin() + static_cast<ptrdiff_t>(layout->moov->offset),
                   file.begin() + static_cast<ptrdiff_t>(layout->moov->end()));
  auto index = parse_mp4_moov(moov, file.size());
  ASSERT_TRUE(index.ok()) << index.error().message;
  if (file.size() <= kFuzzFileSize) save_moov_seed("ffmpeg_tiny_moov", moov);
  save_file_seed("ffmpeg_tiny_file", file);
}

}  // namespace
}  // namespace cascade::media
