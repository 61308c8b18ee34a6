#include "protocols/hls/media_playlist.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::hls {
namespace {

// 2023-11-14T22:13:20.000Z
constexpr int64_t kDate = 1'700'000'000'000;

SegmentEntry complete(uint64_t msn, MediaTimeMs start_ms, MediaTimeMs duration_ms, std::string uri,
                      std::string map_uri = "") {
  SegmentEntry s;
  s.msn = msn;
  s.duration_ms = duration_ms;
  s.program_date_ms = kDate + start_ms;
  s.complete = true;
  s.uri = std::move(uri);
  s.map_uri = std::move(map_uri);
  return s;
}

std::string fmp4_uri(uint64_t msn) {
  return "e/s" + std::to_string(msn) + ".m4s";
}

std::string part_uri(uint64_t msn, size_t index) {
  return "e/p" + std::to_string(msn) + "." + std::to_string(index) + ".m4s";
}

// `count` parts of `part_ms` each, the first independent.
std::vector<PartEntry> parts(uint64_t msn, size_t count, MediaTimeMs part_ms) {
  std::vector<PartEntry> out;
  for (size_t i = 0; i < count; ++i) out.push_back(PartEntry{part_ms, i == 0, part_uri(msn, i)});
  return out;
}

// An fMP4 live playlist: `count` complete segments of `segment_ms` from msn
// `first`, each with `parts_per_segment` parts.
MediaPlaylist fmp4_playlist(uint64_t first, size_t count, MediaTimeMs segment_ms,
                            size_t parts_per_segment) {
  MediaPlaylist p;
  p.target_duration_s = static_cast<uint32_t>((segment_ms + 999) / 1000);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t msn = first + i;
    SegmentEntry s =
        complete(msn, MediaTimeMs(i) * segment_ms, segment_ms, fmp4_uri(msn), "e/init1.mp4");
    if (parts_per_segment > 0) {
      s.parts = parts(msn, parts_per_segment, segment_ms / MediaTimeMs(parts_per_segment));
    }
    p.segments.push_back(std::move(s));
  }
  return p;
}

// The open segment that follows the playlist's last one.
void add_open_segment(MediaPlaylist& p, size_t part_count, MediaTimeMs part_ms) {
  const SegmentEntry& last = p.segments.back();
  SegmentEntry open;
  open.msn = last.msn + 1;
  open.program_date_ms = last.program_date_ms + last.duration_ms;
  open.complete = false;
  open.uri = fmp4_uri(open.msn);
  open.map_uri = last.map_uri;
  open.parts = parts(open.msn, part_count, part_ms);
  p.segments.push_back(std::move(open));
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    out.push_back(text.substr(pos, end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

size_t count_lines(const std::string& text, std::string_view prefix) {
  size_t n = 0;
  for (const std::string& line : lines(text)) n += line.starts_with(prefix) ? 1 : 0;
  return n;
}

// --- Golden text -------------------------------------------------------------

TEST(MediaPlaylist, ClassicTsGolden) {
  MediaPlaylist p;
  p.target_duration_s = 2;
  p.segments.push_back(complete(7, 0, 2000, "e1/s7.ts"));
  p.segments.push_back(complete(8, 2000, 1967, "e1/s8.ts"));
  p.segments.push_back(complete(9, 3967, 1500, "e1/s9.ts"));
  EXPECT_EQ(render_media_playlist(p, {}), R"(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2.000,
e1/s7.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z
#EXTINF:1.967,
e1/s8.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:23.967Z
#EXTINF:1.500,
e1/s9.ts
)");
}

TEST(MediaPlaylist, ClassicIgnoresLowLatencyOptions) {
  MediaPlaylist p;
  p.target_duration_s = 2;
  for (uint64_t i = 0; i < 12; ++i) {
    p.segments.push_back(complete(i, MediaTimeMs(i) * 2000, 2000, "s.ts"));
  }
  const std::string plain = render_media_playlist(p, {});
  RenderOptions options;
  options.skip = true;
  options.parts_window_ms = 6000;
  options.preload_hint_uri = "e/p12.0.m4s";
  EXPECT_EQ(render_media_playlist(p, options), plain);
  EXPECT_EQ(plain.find("EXT-X-SKIP"), std::string::npos);
  EXPECT_EQ(plain.find("PRELOAD-HINT"), std::string::npos);
}

TEST(MediaPlaylist, ClassicEndedAndNotIndependent) {
  MediaPlaylist p;
  p.target_duration_s = 5;
  p.ended = true;
  p.segments.push_back(complete(0, 0, 4467, "s0.ts"));
  p.segments.push_back(complete(1, 4467, 1533, "s1.ts"));
  p.segments.back().independent = false;  // a forced cut
  EXPECT_EQ(render_media_playlist(p, {}), R"(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:4.467,
s0.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.467Z
#EXTINF:1.533,
s1.ts
#EXT-X-ENDLIST
)");
}

TEST(MediaPlaylist, Fmp4MapChangeAndDiscontinuityGolden) {
  MediaPlaylist p;
  p.target_duration_s = 2;
  p.discontinuity_sequence = 3;
  p.segments.push_back(complete(20, 0, 2000, "e/s20.m4s", "e/init1.mp4"));
  p.segments.push_back(complete(21, 2000, 1800, "e/s21.m4s", "e/init1.mp4"));
  // A new publisher with a new codec config, anchored to a new wall clock.
  p.segments.push_back(complete(22, 60'000, 2000, "e/s22.m4s", "e/init2.mp4"));
  p.segments.back().discontinuity = true;
  p.segments.push_back(complete(23, 62'000, 2000, "e/s23.m4s", "e/init2.mp4"));
  EXPECT_EQ(render_media_playlist(p, {}), R"(#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:20
#EXT-X-DISCONTINUITY-SEQUENCE:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="e/init1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2.000,
e/s20.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z
#EXTINF:1.800,
e/s21.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="e/init2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:14:20.000Z
#EXTINF:2.000,
e/s22.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:14:22.000Z
#EXTINF:2.000,
e/s23.m4s
)");
}

TEST(MediaPlaylist, MapChangeWithoutDiscontinuity) {
  MediaPlaylist p;
  p.target_duration_s = 2;
  p.segments.push_back(complete(0, 0, 2000, "s0.m4s", "i1.mp4"));
  p.segments.push_back(complete(1, 2000, 2000, "s1.m4s", "i2.mp4"));
  p.segments.push_back(complete(2, 4000, 2000, "s2.m4s", "i2.mp4"));
  const std::string text = render_media_playlist(p, {});
  EXPECT_EQ(count_lines(text, "#EXT-X-MAP:"), 2u);
  EXPECT_NE(text.find("#EXT-X-MAP:URI=\"i2.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22"),
            std::string::npos);
  EXPECT_EQ(text.find("DISCONTINUITY"), std::string::npos);
}

// Five 2 s segments with parts, an open segment with two parts: parts are
// listed only within the parts window (the last 3 s here) and for the open
// segment, then the preload hint for the next part.
TEST(MediaPlaylist, LowLatencyGolden) {
  MediaPlaylist p = fmp4_playlist(40, 5, 2000, 4);
  p.low_latency = LowLatencyParams{500, 1500, 12000};
  add_open_segment(p, 2, 500);
  p.segments.back().parts[1].duration_ms = 467;
  RenderOptions options;
  options.parts_window_ms = 3000;
  options.preload_hint_uri = "e/p45.2.m4s";
  EXPECT_EQ(render_media_playlist(p, options), R"(#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=1.500
#EXT-X-PART-INF:PART-TARGET=0.500
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="e/init1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2.000,
e/s40.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z
#EXTINF:2.000,
e/s41.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z
#EXTINF:2.000,
e/s42.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p43.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="e/p43.1.m4s"
#EXT-X-PART:DURATION=0.500,URI="e/p43.2.m4s"
#EXT-X-PART:DURATION=0.500,URI="e/p43.3.m4s"
#EXTINF:2.000,
e/s43.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p44.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="e/p44.1.m4s"
#EXT-X-PART:DURATION=0.500,URI="e/p44.2.m4s"
#EXT-X-PART:DURATION=0.500,URI="e/p44.3.m4s"
#EXTINF:2.000,
e/s44.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p45.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.467,URI="e/p45.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/p45.2.m4s"
)");
}

TEST(MediaPlaylist, PartsWindowZeroListsOnlyTheOpenSegment) {
  MediaPlaylist p = fmp4_playlist(0, 3, 2000, 4);
  p.low_latency = LowLatencyParams{500, 1500, 12000};
  add_open_segment(p, 1, 500);
  const std::string text = render_media_playlist(p, {});
  EXPECT_EQ(count_lines(text, "#EXT-X-PART:"), 1u);
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=0.500,URI=\"e/p3.0.m4s\",INDEPENDENT=YES\n"),
            std::string::npos);
  EXPECT_EQ(count_lines(text, "#EXT-X-PRELOAD-HINT"), 0u);  // none asked for
}

TEST(MediaPlaylist, OpenSegmentWithoutPartsIsNotListed) {
  MediaPlaylist p = fmp4_playlist(40, 3, 2000, 4);
  p.low_latency = LowLatencyParams{500, 1500, 12000};
  add_open_segment(p, 0, 500);
  RenderOptions options;
  options.parts_window_ms = 6000;
  options.preload_hint_uri = "e/p43.0.m4s";
  const std::string text = render_media_playlist(p, options);
  EXPECT_TRUE(
      text.ends_with("#EXTINF:2.000,\ne/s42.m4s\n"
                     "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"e/p43.0.m4s\"\n"))
      << text;
  EXPECT_EQ(count_lines(text, "#EXT-X-PROGRAM-DATE-TIME:"), 3u);
}

TEST(MediaPlaylist, OpenSegmentAfterDiscontinuityCarriesItsTags) {
  MediaPlaylist p = fmp4_playlist(0, 2, 2000, 4);
  p.low_latency = LowLatencyParams{500, 1500, 12000};
  add_open_segment(p, 1, 500);
  p.segments.back().discontinuity = true;
  p.segments.back().map_uri = "e/init2.mp4";
  p.segments.back().program_date_ms = kDate + 100'000;
  RenderOptions options;
  options.preload_hint_uri = "e/p2.1.m4s";
  EXPECT_TRUE(render_media_playlist(p, options)
                  .ends_with("e/s1.m4s\n"
                             "#EXT-X-DISCONTINUITY\n"
                             "#EXT-X-MAP:URI=\"e/init2.mp4\"\n"
                             "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:15:00.000Z\n"
                             "#EXT-X-PART:DURATION=0.500,URI=\"e/p2.0.m4s\",INDEPENDENT=YES\n"
                             "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"e/p2.1.m4s\"\n"));
}

TEST(MediaPlaylist, LowLatencyEndedHasNoPreloadHint) {
  MediaPlaylist p = fmp4_playlist(0, 3, 2000, 4);
  p.low_latency = LowLatencyParams{500, 1500, 12000};
  p.ended = true;
  RenderOptions options;
  options.parts_window_ms = 6000;
  options.preload_hint_uri = "e/p3.0.m4s";
  const std::string text = render_media_playlist(p, options);
  EXPECT_EQ(count_lines(text, "#EXT-X-PRELOAD-HINT"), 0u);
  EXPECT_TRUE(text.ends_with("#EXTINF:2.000,\ne/s2.m4s\n#EXT-X-ENDLIST\n")) << text;
  EXPECT_EQ(count_lines(text, "#EXT-X-PART:"), 12u);
}

// --- Delta updates (8216bis 6.2.5.1) ---------------------------------------

// Ten complete 1 s segments (parts kept for the last three) and an open one;
// CAN-SKIP-UNTIL 6 s: the first four segments end at least 6 s before the
// playlist's end and are skipped.
MediaPlaylist delta_playlist() {
  MediaPlaylist p = fmp4_playlist(0, 10, 1000, 0);
  p.low_latency = LowLatencyParams{500, 1500, 6000};
  for (uint64_t msn = 7; msn < 10; ++msn) p.segments[msn].parts = parts(msn, 2, 500);
  add_open_segment(p, 1, 500);
  return p;
}

RenderOptions delta_options(bool skip) {
  RenderOptions options;
  options.skip = skip;
  options.parts_window_ms = 3000;
  options.preload_hint_uri = "e/p10.1.m4s";
  return options;
}

TEST(MediaPlaylist, DeltaUpdateGolden) {
  EXPECT_EQ(render_media_playlist(delta_playlist(), delta_options(true)), R"(#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=1.500
#EXT-X-PART-INF:PART-TARGET=0.500
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SKIP:SKIPPED-SEGMENTS=4
#EXT-X-MAP:URI="e/init1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z
#EXTINF:1.000,
e/s4.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:25.000Z
#EXTINF:1.000,
e/s5.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.000Z
#EXTINF:1.000,
e/s6.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:27.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p7.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="e/p7.1.m4s"
#EXTINF:1.000,
e/s7.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p8.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="e/p8.1.m4s"
#EXTINF:1.000,
e/s8.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:29.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p9.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="e/p9.1.m4s"
#EXTINF:1.000,
e/s9.m4s
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z
#EXT-X-PART:DURATION=0.500,URI="e/p10.0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="e/p10.1.m4s"
)");
}

// The delta is the full playlist with the skipped segments' lines replaced
// by one EXT-X-SKIP (plus the EXT-X-MAP they would have carried).
TEST(MediaPlaylist, DeltaIsTheFullPlaylistMinusSkippedLines) {
  const std::vector<std::string> full =
      lines(render_media_playlist(delta_playlist(), delta_options(false)));
  const std::vector<std::string> delta =
      lines(render_media_playlist(delta_playlist(), delta_options(true)));
  // Header (7 lines) + MAP + 4 x (date, EXTINF, URI) for s0..s3.
  ASSERT_EQ(full.size(), delta.size() + 4 * 3 - 1);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(full[i], delta[i]);
  EXPECT_EQ(delta[7], "#EXT-X-SKIP:SKIPPED-SEGMENTS=4");
  EXPECT_EQ(full[7], delta[8]);  // the EXT-X-MAP
  for (size_t i = 9; i < delta.size(); ++i) EXPECT_EQ(full[i + 11], delta[i]) << i;
}

TEST(MediaPlaylist, DeltaNeverSkipsADiscontinuity) {
  MediaPlaylist p = delta_playlist();
  p.segments[2].discontinuity = true;
  const std::string text = render_media_playlist(p, delta_options(true));
  EXPECT_NE(text.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"
                      "#EXT-X-DISCONTINUITY\n"
                      "#EXT-X-MAP:URI=\"e/init1.mp4\"\n"
                      "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
                      "#EXTINF:1.000,\n"
                      "e/s2.m4s\n"),
            std::string::npos)
      << text;
}

TEST(MediaPlaylist, DeltaWithDiscontinuityFirstSkipsNothing) {
  MediaPlaylist p = delta_playlist();
  p.segments[0].discontinuity = true;
  EXPECT_EQ(render_media_playlist(p, delta_options(true)),
            render_media_playlist(p, delta_options(false)));
}

TEST(MediaPlaylist, DeltaReemitsTheCurrentMapAfterTheSkip) {
  MediaPlaylist p = delta_playlist();
  // init1 for s0..s1, init2 from s2 on (skipped), init3 from s5 on.
  for (size_t i = 2; i < p.segments.size(); ++i) p.segments[i].map_uri = "e/init2.mp4";
  for (size_t i = 5; i < p.segments.size(); ++i) p.segments[i].map_uri = "e/init3.mp4";
  const std::string text = render_media_playlist(p, delta_options(true));
  EXPECT_NE(text.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"
                      "#EXT-X-MAP:URI=\"e/init2.mp4\"\n"
                      "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(count_lines(text, "#EXT-X-MAP:"), 2u);
  EXPECT_EQ(text.find("init1"), std::string::npos);
}

TEST(MediaPlaylist, DeltaSkipsNothingWhenAllIsWithinTheBoundary) {
  MediaPlaylist p = fmp4_playlist(0, 6, 1000, 2);
  p.low_latency = LowLatencyParams{500, 1500, 6000};
  EXPECT_EQ(render_media_playlist(p, delta_options(true)),
            render_media_playlist(p, delta_options(false)));
  p.segments.push_back(complete(6, 6000, 1000, fmp4_uri(6), "e/init1.mp4"));
  EXPECT_NE(render_media_playlist(p, delta_options(true)).find("#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n"),
            std::string::npos);
}

// Even with a boundary of 0 (every complete segment skippable), the open
// segment and its parts stay listed.
TEST(MediaPlaylist, DeltaNeverSkipsTheOpenSegment) {
  // CAN-SKIP-UNTIL of 1 ms: every complete segment but the newest is older
  // than the Skip Boundary; the open segment is never skipped.
  MediaPlaylist p = fmp4_playlist(0, 3, 1000, 2);
  p.low_latency = LowLatencyParams{500, 1500, 1};
  add_open_segment(p, 1, 500);
  const std::string text = render_media_playlist(p, delta_options(true));
  EXPECT_NE(text.find("#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("#EXT-X-PART:DURATION=0.500,URI=\"e/p3.0.m4s\",INDEPENDENT=YES\n"
                             "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"e/p10.1.m4s\"\n"))
      << text;
}

TEST(MediaPlaylist, DeltaWithoutSkipBoundarySkipsNothing) {
  // A CAN-SKIP-UNTIL of 0 (a misconfiguration) must not skip everything.
  MediaPlaylist p = fmp4_playlist(0, 3, 1000, 2);
  p.low_latency = LowLatencyParams{500, 1500, 0};
  const std::string text = render_media_playlist(p, delta_options(true));
  EXPECT_EQ(text.find("EXT-X-SKIP"), std::string::npos) << text;
}

// --- Model queries and formatting --------------------------------------------

TEST(MediaPlaylist, LastCompleteMsn) {
  MediaPlaylist p;
  EXPECT_FALSE(p.last_complete_msn());
  EXPECT_TRUE(p.independent_segments());
  p = fmp4_playlist(5, 2, 2000, 0);
  add_open_segment(p, 1, 500);
  EXPECT_EQ(p.last_complete_msn(), 6u);
  p.segments.erase(p.segments.begin(), p.segments.begin() + 2);
  EXPECT_FALSE(p.last_complete_msn());
}

TEST(MediaPlaylist, IndependentSegments) {
  MediaPlaylist p = fmp4_playlist(0, 3, 2000, 0);
  EXPECT_TRUE(p.independent_segments());
  p.segments[1].independent = false;
  EXPECT_FALSE(p.independent_segments());
  EXPECT_EQ(render_media_playlist(p, {}).find("INDEPENDENT-SEGMENTS"), std::string::npos);
}

TEST(MediaPlaylist, FormatSeconds) {
  EXPECT_EQ(format_seconds(0), "0.000");
  EXPECT_EQ(format_seconds(1), "0.001");
  EXPECT_EQ(format_seconds(10), "0.010");
  EXPECT_EQ(format_seconds(333), "0.333");
  EXPECT_EQ(format_seconds(999), "0.999");
  EXPECT_EQ(format_seconds(1000), "1.000");
  EXPECT_EQ(format_seconds(1500), "1.500");
  EXPECT_EQ(format_seconds(123'456'789), "123456.789");
  EXPECT_EQ(format_seconds(-5), "0.000");  // never negative
}

TEST(MediaPlaylist, FormatProgramDate) {
  EXPECT_EQ(format_program_date(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_program_date(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(format_program_date(999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(format_program_date(kDate), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(format_program_date(kDate + 123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_program_date(951'782'400'000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(format_program_date(951'782'399'999), "2000-02-28T23:59:59.999Z");
  EXPECT_EQ(format_program_date(1'798'761'599'999), "2026-12-31T23:59:59.999Z");
  EXPECT_EQ(format_program_date(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  // Before the epoch: floor, not truncation (ms stay 3 digits, 0..999).
  EXPECT_EQ(format_program_date(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_program_date(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_program_date(-1001), "1969-12-31T23:59:58.999Z");
}

}  // namespace
}  // namespace cascade::hls
