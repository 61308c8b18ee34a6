#include "live/hub.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <thread>

#include "core/metrics.h"
#include "live/stream_key.h"

namespace cascade::live {
namespace {

using media::Frame;
using media::TrackKind;

// Each frame's payload is 4 bytes: kind, id (2 bytes), flags. The test
// packager passes it through and counts calls, so a viewer's bytes tell
// exactly which frames it got, in which order.
struct CountingPackager final : Packager {
  explicit CountingPackager(int& calls) : calls_(calls) {}
  SharedBytes package(const Frame& frame) override {
    ++calls_;
    return frame.payload;
  }
  int& calls_;
};

Frame make_frame(TrackKind kind, uint16_t id, bool keyframe = false, bool config = false) {
  uint8_t bytes[4] = {uint8_t(kind), uint8_t(id >> 8), uint8_t(id), uint8_t(keyframe | config << 1)};
  Frame f;
  f.kind = kind;
  f.keyframe = keyframe;
  f.config = config;
  f.payload = SharedBytes::copy_of(std::span<const uint8_t>(bytes));
  return f;
}

struct Got {
  TrackKind kind;
  uint16_t id;
};

class FakeSink final : public ViewerSink {
 public:
  void on_start(const StreamInfo& stream) override {
    started = true;
    info = stream;
  }
  void write(std::span<const boost::asio::const_buffer> buffers) override {
    ++writes;
    for (const auto& b : buffers) {
      const auto* p = static_cast<const uint8_t*>(b.data());
      for (size_t i = 0; i + 4 <= b.size(); i += 4) {
        got.push_back({TrackKind(p[i]), uint16_t(p[i + 1] << 8 | p[i + 2])});
      }
    }
    if (auto_complete) {
      viewer->on_write_complete(true);
    } else {
      outstanding = true;
    }
  }
  void complete() {
    outstanding = false;
    viewer->on_write_complete(true);
  }
  void on_end() override { ended = true; }
  void on_closed(std::string_view reason) override { closed = std::string(reason); }

  Viewer* viewer = nullptr;
  bool auto_complete = true;
  bool outstanding = false;
  bool started = false;
  bool ended = false;
  int writes = 0;
  std::optional<std::string> closed;
  StreamInfo info;
  std::vector<Got> got;
};

class HubTest : public ::testing::Test {
 protected:
  void make_hub(HubConfig config = {}) {
    hub_ = std::make_unique<Hub>(
        config,
        std::vector<OutputFormat>{
            {"a", [this] { return std::make_unique<CountingPackager>(calls_["a"]); }},
            {"b", [this] { return std::make_unique<CountingPackager>(calls_["b"]); }}},
        std::vector<boost::asio::io_context*>{&w0_, &w1_});
  }

  // Runs both workers until neither has work ready.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      size_t n = w0_.poll() + w1_.poll();
      w0_.restart();
      w1_.restart();
      if (n == 0) return;
    }
  }
  void run_for(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      settle();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::unique_ptr<Viewer> watch(FakeSink& sink, size_t worker, FormatId format = 0) {
    auto v = hub_->subscribe("live/s", format, worker, sink);
    if (v) {
      sink.viewer = v.get();
      v->start();
    }
    return v;
  }

  void push(Publication& p, TrackKind kind, uint16_t id, uint32_t ts, bool key = false,
            bool config = false) {
    p.push(make_frame(kind, id, key, config), ts);
  }

  // Handlers still pending on one worker may hold a stream whose feeds own
  // timers of the other worker: both loops are shut down (their pending
  // handlers destroyed) before either is destroyed.
  ~HubTest() override {
    hub_.reset();
    w0_.shut_down();
    w1_.shut_down();
  }

  struct Worker : boost::asio::io_context {
    using boost::asio::io_context::io_context;
    void shut_down() { shutdown(); }
  };
  Worker w0_{1};
  Worker w1_{1};
  std::map<std::string, int> calls_;
  std::unique_ptr<Hub> hub_;
};

TEST_F(HubTest, ViewerStartsAtNewestKeyframeWithHeadersFirst) {
  make_hub();
  auto pub = hub_->publish("live/s", 0);
  ASSERT_TRUE(pub);
  Publication& p = **pub;
  push(p, TrackKind::kVideo, 1, 0, false, true);  // codec config
  push(p, TrackKind::kVideo, 2, 0, true);
  push(p, TrackKind::kVideo, 3, 33);
  push(p, TrackKind::kVideo, 4, 66, true);  // newest keyframe
  push(p, TrackKind::kAudio, 5, 70);
  push(p, TrackKind::kVideo, 6, 100);
  settle();

  FakeSink sink;
  auto viewer = watch(sink, 1);
  ASSERT_TRUE(viewer);
  settle();
  ASSERT_TRUE(sink.started);
  std::vector<uint16_t> ids;
  for (const Got& g : sink.got) ids.push_back(g.id);
  EXPECT_EQ(ids, (std::vector<uint16_t>{1, 4, 5, 6}));

  push(p, TrackKind::kAudio, 7, 110);
  settle();
  EXPECT_EQ(sink.got.back().id, 7);
}

TEST_F(HubTest, PackagesOncePerFramePerFormatWhateverTheViewerCount) {
  make_hub();
  auto pub = hub_->publish("live/s", 0);
  Publication& p = **pub;
  push(p, TrackKind::kVideo, 1, 0, true);
  settle();
  std::vector<std::unique_ptr<FakeSink>> sinks;
  std::vector<std::unique_ptr<Viewer>> viewers;
  for (int i = 0; i < 50; ++i) {
    sinks.push_back(std::make_unique<FakeSink>());
    viewers.push_back(watch(*sinks.back(), i % 2, /*format=*/0));
  }
  settle();
  for (uint16_t id = 2; id <= 11; ++id) push(p, TrackKind::kVideo, id, id * 33);
  settle();
  // The GOP cache (1 frame) once, then 10 frames: 11 calls for format "a",
  // none for "b" (no viewers).
  EXPECT_EQ(calls_["a"], 11);
  EXPECT_EQ(calls_["b"], 0);
  for (auto& sink : sinks) {
    ASSERT_EQ(sink->got.size(), 11u);
    EXPECT_EQ(sink->got.back().id, 11);
  }
  EXPECT_EQ(hub_->stats()[0].viewers, 50);
  viewers.clear();
  settle();
  EXPECT_EQ(hub_->stats()[0].viewers, 0);
}

TEST_F(HubTest, FeedSurvivesOldViewerLeavingBeforeNewOneStarts) {
  // A play after closeStream on one connection: the new viewer subscribes,
  // then the old one is destroyed, then the new one starts.
  make_hub();
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink old_sink, new_sink;
  auto old_viewer = watch(old_sink, 1);
  settle();
  auto new_viewer = hub_->subscribe("live/s", 0, 1, new_sink);
  new_sink.viewer = new_viewer.get();
  old_viewer.reset();
  settle();
  new_viewer->start();
  settle();
  push(**pub, TrackKind::kVideo, 2, 33);
  settle();
  ASSERT_EQ(new_sink.got.size(), 2u);
  EXPECT_EQ(new_sink.got.back().id, 2);
}

TEST_F(HubTest, ViewerBeforeFirstKeyframeWaitsForIt) {
  make_hub();
  auto pub = hub_->publish("live/s", 0);
  Publication& p = **pub;
  FakeSink sink;
  auto viewer = watch(sink, 1);
  settle();
  push(p, TrackKind::kVideo, 1, 0);  // not a keyframe
  push(p, TrackKind::kVideo, 2, 33, true);
  push(p, TrackKind::kVideo, 3, 66);
  settle();
  ASSERT_FALSE(sink.got.empty());
  EXPECT_EQ(sink.got.front().id, 2);
}

TEST_F(HubTest, SecondPublisherIsRefused) {
  make_hub();
  auto first = hub_->publish("live/s", 0);
  ASSERT_TRUE(first);
  auto second = hub_->publish("live/s", 1);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("already"), std::string::npos);
}

TEST_F(HubTest, PublishersBeyondMaxPublishersAreRefusedAndExistingOnesContinue) {
  HubConfig config;
  config.max_publishers = 2;
  config.publish_grace_ms = 50;
  make_hub(config);
  auto a = hub_->publish("live/s", 0);
  auto b = hub_->publish("live/b", 1);
  ASSERT_TRUE(a && b);
  PublishRefusal why = PublishRefusal::kInUse;
  auto c = hub_->publish("live/c", 0, &why);
  ASSERT_FALSE(c);
  EXPECT_EQ(why, PublishRefusal::kMaxPublishers);
  EXPECT_NE(c.error().message.find("limit of 2 publishers"), std::string::npos);
  EXPECT_FALSE(hub_->is_live("live/c"));  // a refusal leaves no stream behind
  // The first stream keeps going.
  push(**a, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink sink;
  auto viewer = watch(sink, 1);
  push(**a, TrackKind::kVideo, 2, 33);
  settle();
  EXPECT_EQ(sink.got.size(), 2u);
  // A publisher leaving frees its slot at once (its stream lingers in grace).
  (*b)->end();
  b.value().reset();
  auto again = hub_->publish("live/c", 0, &why);
  EXPECT_TRUE(again);
  // The same stream refused because it is in use says so.
  auto dup = hub_->publish("live/s", 0, &why);
  ASSERT_FALSE(dup);
  EXPECT_EQ(why, PublishRefusal::kInUse);
}

TEST_F(HubTest, NewStreamsBeyondMaxStreamsAreRefusedButAStreamInGraceResumes) {
  HubConfig config;
  config.max_streams = 1;
  config.publish_grace_ms = 200;
  make_hub(config);
  auto a = hub_->publish("live/s", 0);
  ASSERT_TRUE(a);
  PublishRefusal why = PublishRefusal::kInUse;
  auto b = hub_->publish("live/b", 1, &why);
  ASSERT_FALSE(b);
  EXPECT_EQ(why, PublishRefusal::kMaxStreams);
  EXPECT_NE(b.error().message.find("limit of 1 streams"), std::string::npos);
  // The stream's publisher drops and comes back within the grace period:
  // still the one stream, so it may.
  (*a)->end();
  a.value().reset();
  settle();
  auto resumed = hub_->publish("live/s", 1);
  ASSERT_TRUE(resumed);
  EXPECT_TRUE((*resumed)->resumed());
  // Once the stream is gone, another may take its place.
  (*resumed)->end();
  resumed.value().reset();
  run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(hub_->is_live("live/s"));
  EXPECT_TRUE(hub_->publish("live/b", 1));
}

TEST_F(HubTest, UnknownStreamHasNoViewer) {
  make_hub();
  FakeSink sink;
  EXPECT_EQ(hub_->subscribe("live/nope", 0, 0, sink), nullptr);
}

TEST_F(HubTest, ReconnectWithinGraceKeepsViewers) {
  HubConfig config;
  config.publish_grace_ms = 200;
  make_hub(config);
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 1000, true);
  settle();
  FakeSink sink;
  auto viewer = watch(sink, 1);
  settle();
  (*pub)->end();
  pub.value().reset();
  settle();
  auto again = hub_->publish("live/s", 1);  // on another worker
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->resumed());
  push(**again, TrackKind::kVideo, 2, 0, true);
  run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(sink.ended);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got.back().id, 2);
  EXPECT_TRUE(hub_->is_live("live/s"));
}

TEST_F(HubTest, StreamEndsAfterGraceAndViewersGetEverythingFirst) {
  HubConfig config;
  config.publish_grace_ms = 50;
  make_hub(config);
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink sink;
  sink.auto_complete = false;
  auto viewer = watch(sink, 1);
  settle();
  ASSERT_TRUE(sink.outstanding);
  push(**pub, TrackKind::kVideo, 2, 33);
  (*pub)->end();
  run_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(hub_->is_live("live/s"));
  EXPECT_FALSE(sink.ended);  // its write is still outstanding
  sink.auto_complete = true;
  sink.complete();
  settle();
  EXPECT_TRUE(sink.ended);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got.back().id, 2);
}

TEST_F(HubTest, AddedLatencyCountsFramesThatArrivedWhileTheViewerWatched) {
  make_hub();  // no coalescing: a frame is written as soon as the viewer is idle
  Histogram& added = Metrics::global().histogram("cascade_viewer_added_latency_ms", {});
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  push(**pub, TrackKind::kVideo, 2, 33);
  settle();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  FakeSink sink;
  sink.auto_complete = false;
  auto viewer = watch(sink, 1);
  settle();
  const uint64_t count = added.count();
  const double sum = added.sum();
  // The GOP cache replayed on joining (a write per packet here): older than
  // the viewer, not counted.
  for (int i = 0; i < 10 && sink.outstanding; ++i) {
    sink.complete();
    settle();
  }
  ASSERT_FALSE(sink.outstanding);
  EXPECT_EQ(added.count(), count);

  push(**pub, TrackKind::kVideo, 3, 66);  // written at once, completed ~20 ms later
  settle();
  ASSERT_TRUE(sink.outstanding);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  sink.complete();
  settle();
  EXPECT_EQ(added.count(), count + 1);
  EXPECT_GE(added.sum() - sum, 19.0);
  EXPECT_LT(added.sum() - sum, 5000.0);
}

TEST_F(HubTest, LaggingViewerSkipsToNewestKeyframe) {
  HubConfig config;
  config.lag_skip_ms = 1000;
  config.lag_close_ms = 5000;
  make_hub(config);
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink slow, fast;
  slow.auto_complete = false;
  auto slow_viewer = watch(slow, 1);
  auto fast_viewer = watch(fast, 1);
  settle();
  // 3 seconds of 30 fps video with a keyframe each second.
  for (uint16_t i = 1; i <= 90; ++i) push(**pub, TrackKind::kVideo, uint16_t(1 + i), i * 33, i % 30 == 0);
  settle();
  EXPECT_EQ(fast.got.size(), 91u);  // the fast viewer was not held back
  slow.complete();
  settle();
  EXPECT_EQ(slow_viewer->skips(), 1u);
  // After the first (outstanding) write it resumed at the newest keyframe: id 91.
  ASSERT_GE(slow.got.size(), 2u);
  EXPECT_EQ(slow.got[1].id, 91);
  EXPECT_FALSE(slow.closed);
}

TEST_F(HubTest, ViewerWhoseSocketAcceptsSlowlySkipsAhead) {
  // The cursor is barely behind, but the last write took longer than the
  // skip bound: the lag is in socket buffers, so the viewer skips.
  HubConfig config;
  config.lag_skip_ms = 100;
  config.lag_close_ms = 5000;
  make_hub(config);
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink slow;
  slow.auto_complete = false;
  auto viewer = watch(slow, 0);
  settle();
  push(**pub, TrackKind::kVideo, 2, 33);
  push(**pub, TrackKind::kVideo, 3, 66, true);
  push(**pub, TrackKind::kVideo, 4, 99);
  settle();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  slow.complete();
  settle();
  EXPECT_EQ(viewer->skips(), 1u);
  std::vector<uint16_t> ids;
  for (const Got& g : slow.got) ids.push_back(g.id);
  EXPECT_EQ(ids, (std::vector<uint16_t>{1, 3, 4}));
}

TEST_F(HubTest, StalledViewerIsClosedAndOthersContinue) {
  HubConfig config;
  config.lag_skip_ms = 100;
  config.lag_close_ms = 300;
  make_hub(config);
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink stalled, healthy;
  stalled.auto_complete = false;
  auto a = watch(stalled, 0);
  auto b = watch(healthy, 0);
  settle();
  for (uint16_t i = 2; i < 20; ++i) {
    push(**pub, TrackKind::kVideo, i, i * 33);
    run_for(std::chrono::milliseconds(80));
  }
  ASSERT_TRUE(stalled.closed);
  EXPECT_NE(stalled.closed->find("stalled"), std::string::npos);
  EXPECT_EQ(healthy.got.size(), 19u);
  // The closed viewer's outstanding write still completes (as failed).
  stalled.viewer->on_write_complete(false);
}

TEST_F(HubTest, PauseThenResumeStartsAtNewestKeyframe) {
  make_hub();
  auto pub = hub_->publish("live/s", 0);
  push(**pub, TrackKind::kVideo, 1, 0, true);
  settle();
  FakeSink sink;
  auto viewer = watch(sink, 0);
  settle();
  viewer->set_paused(true);
  push(**pub, TrackKind::kVideo, 2, 33);
  push(**pub, TrackKind::kVideo, 3, 66, true);
  push(**pub, TrackKind::kVideo, 4, 99);
  settle();
  EXPECT_EQ(sink.got.size(), 1u);
  viewer->set_paused(false);
  settle();
  std::vector<uint16_t> ids;
  for (const Got& g : sink.got) ids.push_back(g.id);
  EXPECT_EQ(ids, (std::vector<uint16_t>{1, 3, 4}));
}

TEST(StreamKey, ValidatesParts) {
  EXPECT_EQ(*make_stream_key("live", "cam-1_a.b"), "live/cam-1_a.b");
  EXPECT_FALSE(make_stream_key("", "x"));
  EXPECT_FALSE(make_stream_key("live", ".."));
  EXPECT_FALSE(make_stream_key("live", "a/b"));
  EXPECT_FALSE(make_stream_key("live", "a%2e"));
  EXPECT_FALSE(make_stream_key("live", std::string(129, 'a')));
  EXPECT_FALSE(make_stream_key("li ve", "x"));
}

}  // namespace
}  // namespace cascade::live
