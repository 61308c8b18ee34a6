#include "loadgen/report.h"

#include <gtest/gtest.h>

#include <regex>

namespace cascade::loadgen {
namespace {

ViewerResult playing_viewer(int64_t ttff_ms, uint32_t frames, int64_t seconds) {
  ViewerResult v;
  v.connected = true;
  v.connect_start_us = 0;
  v.first_video_us = ttff_ms * 1000;
  v.first_audio_us = ttff_ms * 1000;
  v.end_us = v.first_video_us + seconds * 1'000'000;
  v.video_frames = frames;
  v.audio_frames = frames;
  v.bytes = 1000;
  v.lag_p95_ms = 10;
  v.lag_max_ms = 20;
  return v;
}

RunInfo run_info() {
  RunInfo run;
  run.mode = "rtmp";
  run.url = "rtmp://127.0.0.1:1935/live/s";
  run.viewers = 4;
  run.threads = 1;
  run.duration_s = 12;
  run.window_s = 10;
  run.window_bytes_regular = 10'000'000;
  for (int i = 0; i < 100; ++i) run.video_deltas.add(i % 3 ? 33 : 34);
  return run;
}

TEST(Summary, GroupsHealthAndPercentiles) {
  std::vector<ViewerResult> viewers = {playing_viewer(100, 300, 10), playing_viewer(200, 200, 10),
                                       playing_viewer(300, 300, 10)};
  ViewerResult failed;
  failed.failed = true;
  failed.reason = "failed: http status 404";
  viewers.push_back(failed);
  ViewerResult slow = playing_viewer(400, 30, 10);
  slow.slow = true;
  viewers.push_back(slow);

  Summary s = summarize(run_info(), viewers);
  EXPECT_EQ(s.primary_track, "video");
  EXPECT_EQ(s.fps_source, "estimated");
  EXPECT_NEAR(*s.expected_fps, 30, 0.01);
  EXPECT_EQ(s.regular.viewers, 4u);
  EXPECT_EQ(s.regular.connected, 3u);
  EXPECT_EQ(s.regular.failed, 1u);
  EXPECT_DOUBLE_EQ(*s.regular.healthy_fraction, 0.5);  // 2 of 4 got >= 95% of 300
  EXPECT_DOUBLE_EQ(*s.regular.ttff_ms.p50, 200);
  EXPECT_DOUBLE_EQ(*s.regular.ttff_ms.max, 300);
  EXPECT_DOUBLE_EQ(s.regular.mbit_s, 8);
  ASSERT_TRUE(s.slow);
  EXPECT_EQ(s.slow->viewers, 1u);
  EXPECT_DOUBLE_EQ(*s.slow->healthy_fraction, 0);
  EXPECT_EQ(s.reasons.at("failed: http status 404"), 1u);
}

TEST(Summary, FpsOptionWins) {
  RunInfo run = run_info();
  run.fps_option = 25;
  Summary s = summarize(run, {playing_viewer(1, 250, 10)});
  EXPECT_EQ(s.fps_source, "option");
  EXPECT_DOUBLE_EQ(*s.regular.healthy_fraction, 1);
}

TEST(Json, KeysAreStable) {
  Summary s = summarize(run_info(), {playing_viewer(1, 300, 10)});
  std::string json = to_json(s);
  // The top-level keys a benchmark script relies on, in order.
  const char* keys[] = {"schema",        "mode",
                        "url",           "viewers_requested",
                        "threads",       "ramp_per_s",
                        "duration_s",    "window_s",
                        "primary_track", "expected_fps",
                        "fps_source",    "viewers",
                        "connected",     "failed",
                        "corrupt",       "closed_by_server",
                        "bytes",         "mbit_s",
                        "video_frames",  "audio_frames",
                        "ts_violations", "missing_sequence_header",
                        "ttff_ms",       "healthy_fraction",
                        "lag_ms",        "slow",
                        "total_mbit_s",  "hls",
                        "reasons",       "nofile_limit",
                        "cpu_s",         "cpu_percent"};
  std::regex top_key("\n  \"([a-z_0-9]+)\":");
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), top_key);
       it != std::sregex_iterator(); ++it) {
    found.push_back((*it)[1]);
  }
  EXPECT_EQ(found, std::vector<std::string>(std::begin(keys), std::end(keys))) << json;
  EXPECT_NE(json.find("\"slow\": null"), std::string::npos);
  EXPECT_NE(json.find("\"hls\": null"), std::string::npos);
  EXPECT_NE(json.find("\"ttff_ms\": {\"p50\": 1.0, \"p95\": 1.0, \"p99\": 1.0, \"max\": 1.0}"),
            std::string::npos);
}

TEST(Json, SlowBlockAndNulls) {
  ViewerResult slow;
  slow.slow = true;
  slow.failed = true;
  Summary s = summarize(run_info(), {slow});
  std::string json = to_json(s);
  EXPECT_NE(json.find("\"slow\": {\n    \"viewers\": 1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"lag_ms\": {\"p50\": null, \"p95\": null, \"p99\": null, \"max\": null}"),
            std::string::npos);
}

TEST(Summary, HlsTotalsHealthAndLatency) {
  RunInfo run = run_info();
  run.mode = "hls";
  run.hls_playlist = "index";
  run.stall_slack_ms = 1000;
  for (int i = 1; i <= 100; ++i) run.hls_latency_ms.push_back(i / 10.0);
  ViewerResult smooth = playing_viewer(5, 0, 10);
  smooth.hls.requests = 60;
  smooth.hls.parts = 30;
  smooth.hls.max_late_ms = 40;
  ViewerResult stalled = smooth;
  stalled.hls.stalls = 2;
  stalled.hls.max_late_ms = 1500;
  ViewerResult gap = smooth;
  gap.hls.gaps = 1;
  gap.hls.http_errors = 3;
  Summary s = summarize(run, {smooth, stalled, gap});
  ASSERT_TRUE(s.hls);
  EXPECT_EQ(s.hls->totals.requests, 180u);
  EXPECT_EQ(s.hls->totals.parts, 90u);
  EXPECT_EQ(s.hls->totals.stalls, 2u);
  EXPECT_EQ(s.hls->totals.max_late_ms, 1500);
  EXPECT_EQ(s.hls->viewers_with_stalls, 1u);
  EXPECT_DOUBLE_EQ(s.hls->requests_per_s, 15);
  EXPECT_DOUBLE_EQ(*s.hls->latency_p50, 5.0);
  EXPECT_DOUBLE_EQ(*s.hls->latency_p99, 9.9);
  EXPECT_DOUBLE_EQ(*s.regular.healthy_fraction, 1.0 / 3);
  std::string json = to_json(s);
  EXPECT_NE(json.find("\"hls\": {\n    \"playlist\": \"index\",\n    \"requests\": 180,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"errors\": 4,"), std::string::npos);
  EXPECT_NE(json.find("\"playlist_latency_ms\": {\"p50\": 5.000, \"p95\": 9.500, \"p99\": "
                      "9.900, \"max\": 10.000}\n  },\n"),
            std::string::npos)
      << json;
}

TEST(Percentile, NearestRank) {
  EXPECT_FALSE(percentile({}, 0.5));
  EXPECT_EQ(*percentile({5, 1, 3, 2, 4}, 0.5), 3);
  EXPECT_EQ(*percentile({5, 1, 3, 2, 4}, 0.95), 5);
  EXPECT_EQ(*percentile({5, 1, 3, 2, 4}, 0.2), 1);
}

}  // namespace
}  // namespace cascade::loadgen
