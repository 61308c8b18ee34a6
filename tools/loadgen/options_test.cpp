#include "loadgen/options.h"

#include <gtest/gtest.h>

namespace cascade::loadgen {
namespace {

TEST(ParseUrl, Rtmp) {
  auto url = parse_url("rtmp://127.0.0.1:1936/live/s?key=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "rtmp");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 1936);
  EXPECT_EQ(url->app, "live");
  EXPECT_EQ(url->stream, "s?key=1");
  url = parse_url("RTMP://localhost/app/a/b");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 1935);
  EXPECT_EQ(url->app, "app");
  EXPECT_EQ(url->stream, "a/b");
}

TEST(ParseUrl, Http) {
  auto url = parse_url("http://[::1]:8080/live/s.flv");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path, "/live/s.flv");
  url = parse_url("http://127.0.0.1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path, "/");
}

TEST(ParseUrl, Rejects) {
  for (const char* bad :
       {"127.0.0.1/live/s", "ftp://h/a/b", "rtmp://h/app", "rtmp://h//s", "rtmp://h:0/a/b",
        "rtmp://h:70000/a/b", "http://:80/x", "http://u@h/x", "http://[::1/x"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(Validate, InfersModeAndChecksOptions) {
  Options o;
  EXPECT_EQ(*validate(o, *parse_url("rtmp://h/a/b")), Mode::kRtmp);
  EXPECT_EQ(*validate(o, *parse_url("http://h/a/b.flv")), Mode::kFlv);
  EXPECT_EQ(*validate(o, *parse_url("http://h/a/index.m3u8?x")), Mode::kHls);
  o.mode = Mode::kRtmp;
  EXPECT_FALSE(validate(o, *parse_url("http://h/a/b.flv")));
  o.mode.reset();
  o.slow_fraction = 0.1;
  EXPECT_FALSE(validate(o, *parse_url("rtmp://h/a/b")));  // needs --slow-rate
  o.slow_rate = 10000;
  EXPECT_TRUE(validate(o, *parse_url("rtmp://h/a/b")));
  o.viewers = 0;
  EXPECT_FALSE(validate(o, *parse_url("rtmp://h/a/b")));
}

TEST(HlsPlaylistPath, CascadeLayoutOrAsGiven) {
  auto path = [](const char* p, HlsPlaylistChoice c) {
    auto r = hls_playlist_path(p, c);
    return r ? *r : "error";
  };
  using C = HlsPlaylistChoice;
  EXPECT_EQ(path("/live/x.m3u8", C::kIndex), "/live/x/index.m3u8");
  EXPECT_EQ(path("/live/x.m3u8?k=1", C::kTs), "/live/x/ts.m3u8?k=1");
  EXPECT_EQ(path("/live/x/index.m3u8", C::kTs), "/live/x/ts.m3u8");
  EXPECT_EQ(path("/live/x/ts.m3u8", C::kIndex), "/live/x/index.m3u8");
  EXPECT_EQ(path("/hls/x.m3u8", C::kUrl), "/hls/x.m3u8");
  EXPECT_EQ(path("/live/x.flv", C::kUrl), "error");
  EXPECT_EQ(path("/live/.m3u8", C::kIndex), "error");
  EXPECT_EQ(*parse_hls_playlist("ts"), C::kTs);
  EXPECT_FALSE(parse_hls_playlist("dvr"));
  Options o;
  o.mode = Mode::kHls;
  EXPECT_FALSE(validate(o, *parse_url("http://h/a/b.flv")));
  EXPECT_TRUE(validate(o, *parse_url("http://h/a/b.m3u8")));
}

TEST(SlowViewers, SpreadEvenly) {
  int slow = 0;
  for (uint32_t i = 0; i < 1000; ++i) slow += is_slow_viewer(i, 0.1);
  EXPECT_EQ(slow, 100);
  EXPECT_FALSE(is_slow_viewer(0, 0.1));
  EXPECT_TRUE(is_slow_viewer(9, 0.1));
  EXPECT_FALSE(is_slow_viewer(5, 0));
  EXPECT_TRUE(is_slow_viewer(5, 1));
}

TEST(Streams, EveryPlaceholderIsReplaced) {
  EXPECT_EQ(stream_url("rtmp://h/live/s{n}", 7), "rtmp://h/live/s7");
  EXPECT_EQ(stream_url("http://h/a{n}/s{n}.flv", 12), "http://h/a12/s12.flv");
  EXPECT_EQ(stream_url("rtmp://h/live/s", 3), "rtmp://h/live/s");
}

TEST(Streams, SeveralNeedThePlaceholderInThePath) {
  Options o;
  o.streams = 3;
  o.url = "rtmp://h/live/s";
  EXPECT_FALSE(validate(o, *parse_url(o.url)));
  o.url = "rtmp://h/live/s{n}";
  EXPECT_TRUE(validate(o, *parse_url(o.url)));
  o.streams = 0;
  EXPECT_FALSE(validate(o, *parse_url(o.url)));
}

}  // namespace
}  // namespace cascade::loadgen
