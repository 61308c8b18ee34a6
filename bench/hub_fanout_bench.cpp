// The fan-out principle, measured (ARCHITECTURE.md, "Habits"): one frame is
// packaged once per format and written to every viewer's cursor, with no
// heap allocation per viewer per packet.
//
// Setup: one stream published on worker 0, viewers split over two workers
// (so every frame also crosses threads once per worker), RTMP and FLV
// formats. Each iteration pushes one 10 KB video frame and runs both event
// loops until every viewer has been handed the packet. The sinks complete
// writes at once, so this measures the hub, not sockets.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <vector>

#include "allocation_counter.h"
#include "live/hub.h"
#include "servers/http_flv/flv_packager.h"
#include "servers/rtmp/rtmp_packager.h"

namespace {

using namespace cascade;

struct CountingPackager final : live::Packager {
  CountingPackager(std::unique_ptr<live::Packager> inner, int64_t& calls)
      : inner_(std::move(inner)), calls_(calls) {}
  SharedBytes package(const media::Frame& frame) override {
    ++calls_;
    return inner_->package(frame);
  }
  std::unique_ptr<live::Packager> inner_;
  int64_t& calls_;
};

struct Sink final : live::ViewerSink {
  void on_start(const live::StreamInfo&) override {}
  void write(std::span<const boost::asio::const_buffer> buffers) override {
    for (const auto& b : buffers) bytes += b.size();
    ++writes;
    viewer->on_write_complete(true);
  }
  void on_end() override {}
  void on_closed(std::string_view) override {}
  live::Viewer* viewer = nullptr;
  uint64_t bytes = 0;
  uint64_t writes = 0;
};

media::Frame video_frame(bool keyframe, size_t size) {
  std::vector<uint8_t> body(size, 0x42);
  body[0] = keyframe ? 0x17 : 0x27;  // FLV: frame type, AVC
  body[1] = 1;                       // AVC NALU
  media::Frame f;
  f.kind = media::TrackKind::kVideo;
  f.keyframe = keyframe;
  f.payload = SharedBytes::copy_of(std::span<const uint8_t>(body));
  return f;
}

void BM_FanOut(benchmark::State& state) {
  const int viewers = static_cast<int>(state.range(0));
  boost::asio::io_context w0{1}, w1{1};
  std::map<std::string, int64_t> calls;
  live::Hub hub(
      live::HubConfig{},
      {{"rtmp", [&] { return std::make_unique<CountingPackager>(servers::make_rtmp_packager(4096), calls["rtmp"]); }},
       {"flv", [&] { return std::make_unique<CountingPackager>(servers::make_flv_packager(), calls["flv"]); }}},
      {&w0, &w1});
  auto settle = [&] {
    for (;;) {
      size_t n = w0.poll() + w1.poll();
      w0.restart();
      w1.restart();
      if (n == 0) return;
    }
  };
  auto publication = std::move(hub.publish("live/bench", 0).value());
  uint32_t ts = 0;
  publication->push(video_frame(true, 10'000), ts);
  settle();

  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<std::unique_ptr<live::Viewer>> cursors;
  for (int i = 0; i < viewers; ++i) {
    auto sink = std::make_unique<Sink>();
    auto viewer = hub.subscribe("live/bench", static_cast<live::FormatId>(i % 2), i % 2 == 0 ? 0 : 1, *sink);
    sink->viewer = viewer.get();
    viewer->start();
    sinks.push_back(std::move(sink));
    cursors.push_back(std::move(viewer));
  }
  settle();

  const int64_t calls_before = calls["rtmp"] + calls["flv"];
  const uint64_t allocations_before = bench::allocations();
  int64_t frames = 0;
  for (auto _ : state) {
    ts += 33;
    // A keyframe every 60 frames, like a 2 s GOP at 30 fps.
    publication->push(video_frame(frames % 60 == 59, 10'000), ts);
    settle();
    ++frames;
  }
  const uint64_t allocations = bench::allocations() - allocations_before;
  const int64_t package_calls = calls["rtmp"] + calls["flv"] - calls_before;

  uint64_t writes = 0;
  for (const auto& s : sinks) writes += s->writes;
  state.counters["viewers"] = viewers;
  state.counters["packager_calls_per_frame"] = double(package_calls) / double(frames);
  state.counters["allocations_per_frame"] = double(allocations) / double(frames);
  state.counters["allocations_per_viewer_packet"] =
      double(allocations) / (double(frames) * double(viewers));
  state.counters["viewer_writes_per_s"] =
      benchmark::Counter(double(frames) * viewers, benchmark::Counter::kIsRate);
  // The principle, enforced: exactly one packager call per frame per format,
  // and allocations independent of the number of viewers (the frame itself,
  // its two packaged copies, one relay per worker, ring growth).
  if (package_calls != 2 * frames) state.SkipWithError("packager ran more than once per frame per format");
  if (double(allocations) / double(frames) > 32) state.SkipWithError("heap allocation per viewer per packet");
  if (writes < uint64_t(frames) * uint64_t(viewers)) state.SkipWithError("a viewer missed a packet");
}
BENCHMARK(BM_FanOut)->Arg(1000)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
