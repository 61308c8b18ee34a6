// HlsPlaySession against scripted HTTP answers: the requests it sends, in
// order, and what it checks and counts.
#include "loadgen/hls_play_session.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::loadgen {
namespace {

// A Cascade-like LL-HLS playlist: segments first_msn.. with the given part
// counts (0.3 s each, the first independent); the last one open if asked.
std::string ll_playlist(uint64_t first_msn, const std::vector<int>& parts, bool last_open,
                        bool ended = false) {
  std::string out =
      "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=0.999\n"
      "#EXT-X-PART-INF:PART-TARGET=0.333\n";
  out += fmt::format("#EXT-X-MEDIA-SEQUENCE:{}\n#EXT-X-MAP:URI=\"e1/init1.mp4\"\n", first_msn);
  for (size_t s = 0; s < parts.size(); ++s) {
    const uint64_t msn = first_msn + s;
    for (int i = 0; i < parts[s]; ++i) {
      out += fmt::format("#EXT-X-PART:DURATION=0.300,URI=\"e1/p{}.{}.m4s\"{}\n", msn, i,
                         i == 0 ? ",INDEPENDENT=YES" : "");
    }
    const bool open = last_open && s + 1 == parts.size();
    if (!open) out += fmt::format("#EXTINF:{:.3f},\ne1/s{}.m4s\n", parts[s] * 0.3, msn);
  }
  if (ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string ts_playlist(uint64_t first_msn, int segments) {
  std::string out = fmt::format(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{}\n", first_msn);
  for (int s = 0; s < segments; ++s) {
    out += fmt::format("#EXTINF:1.500,\ne1/s{}.ts\n", first_msn + s);
  }
  return out;
}

std::string http(int status, const std::string& body, std::string extra = "") {
  return fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\n{}\r\n", status, body.size(), extra) +
         body;
}

std::string box(const char* type, size_t size = 64) {
  std::string b(size, '\0');
  b[3] = static_cast<char>(size);
  b.replace(4, 4, type);
  return b;
}

class Player {
 public:
  explicit Player(std::string path = "/live/x/index.m3u8", bool skip = false)
      : target_("127.0.0.1:8080", std::move(path), skip, 1000), session(target_, stats, &thread) {}

  // The one request the session has to send, as its path ("" if none).
  std::string take() {
    std::string wire(out_.begin(), out_.end());
    out_.clear();
    if (wire.empty()) return "";
    EXPECT_EQ(wire.substr(0, 4), "GET ");
    size_t end = wire.find(" HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n");
    EXPECT_NE(end, std::string::npos) << wire;
    EXPECT_EQ(wire.find("\r\n\r\n"), wire.size() - 4) << "one request at a time: " << wire;
    return wire.substr(4, end - 4);
  }
  std::string connect(int64_t at_us = 0) {
    now = at_us ? at_us : now;
    session.on_connect(now, out_);
    return take();
  }
  // Answers the request in flight at `at_us`, byte by byte; returns the next request.
  std::string answer(const std::string& response, int64_t at_us = 0) {
    now = at_us ? at_us : now + 1000;
    for (char c : response) {
      uint8_t b = static_cast<uint8_t>(c);
      EXPECT_EQ(session.feed(std::span<const uint8_t>(&b, 1), now, out_), 1u);
    }
    return take();
  }
  std::string timer(int64_t at_us) {
    now = at_us;
    session.on_timer(now, out_);
    return take();
  }

  HlsStats stats;
  HlsThreadState thread;
  int64_t now = 1'000'000;

 private:
  HlsPlayTarget target_;
  std::vector<uint8_t> out_;

 public:
  HlsPlaySession session;
};

TEST(HlsPlaySession, LowLatencyFetchesEachPartOnceInOrderAndBlocks) {
  Player p;
  EXPECT_EQ(p.connect(), "/live/x/index.m3u8");
  EXPECT_FALSE(p.session.playing());
  // Segments 5 (complete, 5 parts) and 6 (open, 2 parts): start at p6.0.
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {5, 2}, true))), "/live/x/e1/init1.mp4");
  EXPECT_TRUE(p.session.playing());
  EXPECT_TRUE(p.session.low_latency());
  EXPECT_EQ(p.answer(http(200, box("ftyp"))), "/live/x/e1/p6.0.m4s");
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/e1/p6.1.m4s");
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/index.m3u8?_HLS_msn=6&_HLS_part=2");
  // Part 6.2 arrives and segment 6 closes with 3 parts; 7.0 follows.
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {5, 3, 1}, true)), 1'300'000), "/live/x/e1/p6.2.m4s");
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/e1/p7.0.m4s");
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/index.m3u8?_HLS_msn=7&_HLS_part=1");
  // The stream ends: nothing more to ask.
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {5, 3, 1}, false, true))), "");
  EXPECT_TRUE(p.session.stream_ended());
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kActive);
  EXPECT_EQ(p.stats.parts, 4u);
  EXPECT_EQ(p.stats.init_sections, 1u);
  EXPECT_EQ(p.stats.requests, 8u);
  EXPECT_EQ(p.stats.playlist_requests, 3u);
  EXPECT_EQ(p.stats.blocking_requests, 2u);
  EXPECT_EQ(p.stats.media_requests, 5u);
  EXPECT_EQ(p.stats.media_bytes, 5u * 64);
  EXPECT_EQ(p.stats.stalls, 0u);
  EXPECT_EQ(p.stats.gaps, 0u);
  EXPECT_EQ(p.stats.unsatisfied_reloads, 0u);
  EXPECT_GT(p.stats.first_media_us, 1'000'000);
  EXPECT_EQ(p.stats.media_received_us, 4 * 300'000);
  EXPECT_EQ(p.thread.blocked(), 2u);
}

TEST(HlsPlaySession, DeltaUpdatesWhenAskedAndOffered) {
  Player p("/live/x/index.m3u8", true);
  p.connect();
  p.answer(http(200, ll_playlist(5, {5, 1}, true)));
  p.answer(http(200, box("ftyp")));
  EXPECT_EQ(p.answer(http(200, box("moof"))),
            "/live/x/index.m3u8?_HLS_msn=6&_HLS_part=1&_HLS_skip=YES");
}

TEST(HlsPlaySession, StallsAndUnsatisfiedReloadsAreCounted) {
  Player p;
  p.connect();
  p.answer(http(200, ll_playlist(5, {1}, true)));
  p.answer(http(200, box("ftyp")));
  EXPECT_EQ(p.answer(http(200, box("moof")), 2'000'000),
            "/live/x/index.m3u8?_HLS_msn=5&_HLS_part=1");
  // Answered without part 5.1: counted, and asked again.
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {1}, true))),
            "/live/x/index.m3u8?_HLS_msn=5&_HLS_part=1");
  EXPECT_EQ(p.stats.unsatisfied_reloads, 1u);
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {2}, true))), "/live/x/e1/p5.1.m4s");
  // 0.3 s part 1.301 s after the previous one: more than 0.3 + 1 s late.
  p.answer(http(200, box("moof")), 3'301'000);
  EXPECT_EQ(p.stats.stalls, 1u);
  EXPECT_EQ(p.stats.max_late_ms, 1001);
}

TEST(HlsPlaySession, FallingBehindTheWindowIsAGapThenResyncs) {
  Player p;
  p.connect();
  p.answer(http(200, ll_playlist(5, {2}, true)));
  p.answer(http(200, box("ftyp")));
  p.answer(http(200, box("moof")));
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/index.m3u8?_HLS_msn=5&_HLS_part=2");
  // Segment 5 is gone from the playlist: start again at the newest independent part.
  EXPECT_EQ(p.answer(http(200, ll_playlist(9, {5, 2}, true))), "/live/x/e1/p10.0.m4s");
  EXPECT_EQ(p.stats.gaps, 1u);
  // Parts no longer listed but nothing of the segment fetched: the whole segment.
  Player q;
  q.connect();
  q.answer(http(200, ll_playlist(5, {5, 5}, false)));  // starts at p6.0
  q.answer(http(200, box("ftyp")));
  for (int i = 0; i < 4; ++i) q.answer(http(200, box("moof")));
  EXPECT_EQ(q.answer(http(200, box("moof"))), "/live/x/index.m3u8?_HLS_msn=7&_HLS_part=0");
  std::string pl = ll_playlist(7, {5, 1}, true);
  pl.replace(pl.find("#EXT-X-PART:DURATION=0.300,URI=\"e1/p7.0"),
             pl.find("#EXTINF") - pl.find("#EXT-X-PART:DURATION=0.300,URI=\"e1/p7.0"), "");
  EXPECT_EQ(q.answer(http(200, pl)), "/live/x/e1/s7.m4s");
  EXPECT_EQ(q.answer(http(200, box("moof"))), "/live/x/e1/p8.0.m4s");
  EXPECT_EQ(q.stats.gaps, 0u);
}

TEST(HlsPlaySession, ErrorAnswersAreCountedAndSkippedOrRetried) {
  Player p;
  p.connect();
  p.answer(http(200, ll_playlist(5, {3}, true)));
  p.answer(http(200, box("ftyp")));
  EXPECT_EQ(p.answer(http(404, "gone\n")), "/live/x/e1/p5.1.m4s");
  EXPECT_EQ(p.stats.http_errors, 1u);
  p.answer(http(200, box("moof")));
  p.answer(http(200, box("moof")));
  // A blocking reload timed out (503): a plain reload after kRetryUs.
  EXPECT_EQ(p.answer(http(503, "late\n"), 5'000'000), "");
  EXPECT_EQ(p.session.timer_us(), 5'000'000 + HlsPlaySession::kRetryUs);
  EXPECT_EQ(p.timer(5'500'000), "/live/x/index.m3u8");
  EXPECT_EQ(p.stats.http_errors, 2u);
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kActive);
}

TEST(HlsPlaySession, FirstAnswerNot200Fails) {
  Player p;
  p.connect();
  p.answer(http(404, "no such live stream\n"));
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kFailed);
  EXPECT_EQ(p.session.reason(), "http status 404");
}

struct CorruptCase {
  const char* name;
  std::string second_playlist;  // answered to the first blocking reload
  std::string part_body;        // the first part's body
  const char* reason_part;
};

class HlsCorrupt : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(HlsCorrupt, Disconnects) {
  const CorruptCase& c = GetParam();
  Player p;
  p.connect();
  p.answer(http(200, ll_playlist(5, {1}, true)));
  p.answer(http(200, box("ftyp")));
  p.answer(http(200, c.part_body));
  if (p.session.outcome() == PlaySession::Outcome::kActive) p.answer(http(200, c.second_playlist));
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kCorrupt);
  EXPECT_NE(p.session.reason().find(c.reason_part), std::string::npos) << p.session.reason();
}

std::string renamed_part() {
  std::string pl = ll_playlist(5, {2}, true);
  pl.replace(pl.find("p5.0.m4s"), 8, "q5.0.m4s");
  return pl;
}

const CorruptCase kCorruptCases[] = {
    {"not_moof", "", box("mdat"), "does not start with an expected fMP4 box"},
    {"empty_part", "", "", "empty part"},
    {"sequence_back", ll_playlist(4, {1, 2}, true), box("moof"), "EXT-X-MEDIA-SEQUENCE went back"},
    {"playlist_back", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n", box("moof"),
     "the playlist went back"},
    {"uri_changed", renamed_part(), box("moof"), "changed its URI"},
    {"not_a_playlist", "<html>", box("moof"), "playlist: not a playlist"},
};

INSTANTIATE_TEST_SUITE_P(Cases, HlsCorrupt, ::testing::ValuesIn(kCorruptCases),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(HlsPlaySession, TsPollsOneTargetDurationAfterAChangeHalfAfterNone) {
  Player p("/live/x/ts.m3u8");
  EXPECT_EQ(p.connect(1'000'000), "/live/x/ts.m3u8");
  EXPECT_EQ(p.answer(http(200, ts_playlist(3, 4)), 1'001'000), "/live/x/e1/s6.ts");
  EXPECT_FALSE(p.session.low_latency());
  EXPECT_EQ(p.answer(http(200, std::string(188 * 3, '\x47')), 1'002'000), "");
  EXPECT_EQ(p.session.timer_us(), 3'000'000);  // the load started at 1 s, TD = 2 s
  EXPECT_EQ(p.timer(3'000'000), "/live/x/ts.m3u8");
  EXPECT_EQ(p.answer(http(200, ts_playlist(3, 4)), 3'001'000), "");
  EXPECT_EQ(p.session.timer_us(), 4'001'000);  // unchanged: half of TD from now
  EXPECT_EQ(p.timer(4'001'000), "/live/x/ts.m3u8");
  EXPECT_EQ(p.answer(http(200, ts_playlist(4, 4)), 4'002'000), "/live/x/e1/s7.ts");
  // A TS segment that is not whole packets.
  p.answer(http(200, std::string(100, '\x47')));
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kCorrupt);
}

TEST(HlsPlaySession, MultivariantThenItsFirstVariant) {
  Player p("/live/x.m3u8");
  EXPECT_EQ(p.connect(), "/live/x.m3u8");
  EXPECT_EQ(p.answer(http(200, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx/ts.m3u8\n")),
            "/live/x/ts.m3u8");
  EXPECT_EQ(p.answer(http(200, ts_playlist(0, 1))), "/live/x/e1/s0.ts");
  EXPECT_EQ(p.stats.playlist_requests, 2u);
}

TEST(HlsPlaySession, ReconnectsWhenTheServerClosesBetweenAnswers) {
  Player p;
  p.connect();
  // Connection: close on the playlist: the next request waits for a new connection.
  EXPECT_EQ(p.answer(http(200, ll_playlist(5, {1}, true), "Connection: close\r\n")), "");
  EXPECT_TRUE(p.session.close_requested());
  EXPECT_EQ(p.connect(), "/live/x/e1/init1.mp4");
  EXPECT_FALSE(p.session.close_requested());
  // Closed after an answer, with the next request unanswered: ask again.
  EXPECT_EQ(p.answer(http(200, box("ftyp"))), "/live/x/e1/p5.0.m4s");
  EXPECT_TRUE(p.session.on_close(p.now));
  EXPECT_EQ(p.connect(), "/live/x/e1/p5.0.m4s");
  // A new connection closed before any answer: give up.
  EXPECT_FALSE(p.session.on_close(p.now));
  EXPECT_EQ(p.stats.reconnects, 1u);
  // Closed in the middle of an answer: give up.
  EXPECT_EQ(p.connect(), "/live/x/e1/p5.0.m4s");
  EXPECT_EQ(p.answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nmo"), "");
  EXPECT_FALSE(p.session.on_close(p.now));
  EXPECT_EQ(p.stats.reconnects, 1u);
}

TEST(HlsPlaySession, ASegmentNeverCompletesWithFewerPartsThanListed) {
  Player p;
  p.connect();
  p.answer(http(200, ll_playlist(5, {2}, true)));
  p.answer(http(200, box("ftyp")));
  p.answer(http(200, box("moof")));
  EXPECT_EQ(p.answer(http(200, box("moof"))), "/live/x/index.m3u8?_HLS_msn=5&_HLS_part=2");
  p.answer(http(200, ll_playlist(5, {1, 1}, true)));
  EXPECT_EQ(p.session.outcome(), PlaySession::Outcome::kCorrupt);
  EXPECT_EQ(p.session.reason(), "segment 5 completed with 1 parts after 2 were listed");
}

TEST(HlsThreadState, LatencyFromTheFirstAnswer) {
  HlsThreadState t;
  t.on_blocking_answer(7, 2, 100, 1000);   // the first answer: 0
  t.on_blocking_answer(7, 2, 200, 1500);   // sent before it: 0.5 ms
  t.on_blocking_answer(7, 2, 1200, 1300);  // sent after it: did not block
  t.on_blocking_answer(7, 3, 1400, 2000);  // another part: a new first answer
  EXPECT_EQ(t.latency_ms(), (std::vector<double>{0, 0.5, 0}));
  EXPECT_EQ(t.blocked(), 3u);
}

}  // namespace
}  // namespace cascade::loadgen
