// loadgen: simulates N concurrent live-stream viewers (RTMP play, HTTP-FLV, HLS)
// against a server on this machine, validates what each receives, and prints
// a JSON summary (report.cpp documents the keys). See README.md.
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "loadgen/options.h"
#include "loadgen/report.h"
#include "loadgen/worker.h"

namespace {

using namespace cascade::loadgen;

std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int) {
  g_interrupted.store(true);
}

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the limit.
uint64_t raise_nofile_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

bool resolve(const Url& url, Plan& plan, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port = std::to_string(url.port);
  int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = fmt::format("cannot resolve '{}': {}", url.host, gai_strerror(rc));
    return false;
  }
  std::memcpy(&plan.address, result->ai_addr, result->ai_addrlen);
  plan.address_len = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

uint64_t sum_bytes(const std::vector<std::unique_ptr<Worker>>& workers, bool slow) {
  uint64_t n = 0;
  for (const auto& w : workers) {
    n += (slow ? w->progress().bytes_slow : w->progress().bytes_regular)
             .load(std::memory_order_relaxed);
  }
  return n;
}

// Sleeps until `deadline_us` (monotonic) or an interrupt; calls `tick` about
// every second. Returns false if interrupted.
template <typename Tick>
bool sleep_until(int64_t deadline_us, Tick&& tick) {
  while (!g_interrupted.load()) {
    int64_t now = monotonic_us();
    if (now >= deadline_us) return true;
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::min<int64_t>(deadline_us - now, 100'000)));
    tick(monotonic_us());
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string mode_text;
  CLI::App cli{
      "loadgen: N concurrent live viewers (RTMP play, HTTP-FLV, LL-HLS) against one stream;\n"
      "validates what each receives and prints a JSON summary."};
  std::string hls_playlist_text;
  cli.add_option("--url", options.url,
                 "rtmp://host:port/app/stream, http://host:port/app/stream.flv or "
                 "http://host:port/app/stream.m3u8")
      ->required();
  cli.add_option("--mode", mode_text, "rtmp | flv | hls (default: from the URL)");
  cli.add_option("--hls-playlist", hls_playlist_text,
                 "HLS: index (fMP4 LL-HLS, default) | ts (MPEG-TS) | url (the URL as given; a "
                 "multivariant playlist: its first variant)");
  cli.add_flag("--hls-skip", options.hls_skip,
               "HLS: ask for delta updates (_HLS_skip=YES) when the playlist offers them");
  cli.add_option("--stall-slack-ms", options.stall_slack_ms,
                 "HLS: a part/segment arriving later than its duration + this after the "
                 "previous one is a stall (default 1000)");
  cli.add_option("--viewers", options.viewers, "concurrent viewers (default 1)");
  cli.add_option("--ramp", options.ramp_per_s, "viewers started per second (default 500)");
  cli.add_option("--duration", options.duration_s,
                 "seconds of full load (from the last viewer's start) before stopping "
                 "(default 10)");
  cli.add_option("--threads", options.threads, "event-loop threads (default 1)");
  cli.add_option("--fps", options.fps,
                 "expected video fps for health (default: estimated from the median video "
                 "timestamp delta)");
  cli.add_option("--rcvbuf", options.rcvbuf, "SO_RCVBUF per viewer socket, bytes");
  cli.add_option("--streams", options.streams,
                 "spread the viewers over N streams: viewer i plays the URL with \"{n}\" "
                 "replaced by i % N (default 1)");
  cli.add_option("--slow-fraction", options.slow_fraction,
                 "fraction of viewers that read at --slow-rate (reported as \"slow\")");
  cli.add_option("--slow-rate", options.slow_rate, "read rate of slow viewers, bytes/s");
  cli.add_option("--setup-timeout-ms", options.setup_timeout_ms,
                 "a viewer not playing this long after connect start has failed (default 10000)");
  cli.add_option("--batch-ms", options.batch_ms,
                 "poll each thread's sockets at most every N ms (fewer, larger reads: less "
                 "loadgen CPU; arrival times quantized by N; default 0)");
  cli.add_flag("--digest", options.digest,
               "RTMP: Flash Player 9 digest handshake (default simple)");
  cli.add_flag("--http10", options.http10,
               "HTTP-FLV: send HTTP/1.0 (a close-delimited body) instead of HTTP/1.1 (chunked)");
  cli.add_flag("--json", options.json, "print only the JSON summary on stdout");
  cli.footer(kJsonSchemaDoc);
  CLI11_PARSE(cli, argc, argv);

  auto url = parse_url(options.url);
  if (!url) {
    std::fprintf(stderr, "loadgen: %s\n", url.error().message.c_str());
    return 2;
  }
  if (!mode_text.empty()) {
    auto mode = parse_mode(mode_text);
    if (!mode) {
      std::fprintf(stderr, "loadgen: %s\n", mode.error().message.c_str());
      return 2;
    }
    options.mode = *mode;
  }
  if (!hls_playlist_text.empty()) {
    auto choice = parse_hls_playlist(hls_playlist_text);
    if (!choice) {
      std::fprintf(stderr, "loadgen: %s\n", choice.error().message.c_str());
      return 2;
    }
    options.hls_playlist = *choice;
  }
  auto mode = validate(options, *url);
  if (!mode) {
    std::fprintf(stderr, "loadgen: %s\n", mode.error().message.c_str());
    return 2;
  }

  const uint64_t nofile = raise_nofile_limit();
  // Each viewer holds one socket; leave room for stdio, epoll and the like.
  if (uint64_t(options.viewers) + 32 > nofile) {
    std::fprintf(stderr,
                 "loadgen: warning: %u viewers exceed RLIMIT_NOFILE %llu (hard limit); the "
                 "excess will fail with EMFILE\n",
                 options.viewers, static_cast<unsigned long long>(nofile));
  }

  Plan plan;
  plan.options = options;
  plan.mode = *mode;
  std::string error;
  if (!resolve(*url, plan, error)) {
    std::fprintf(stderr, "loadgen: %s\n", error.c_str());
    return 2;
  }
  std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  std::string authority = fmt::format("{}:{}", host, url->port);
  for (uint32_t n = 0; n < options.streams; ++n) {
    // The address was resolved once from the URL as given: "{n}" stands in
    // the path (validated), so only the path differs between streams.
    auto stream = parse_url(stream_url(options.url, n));
    if (!stream) {
      std::fprintf(stderr, "loadgen: %s\n", stream.error().message.c_str());
      return 2;
    }
    if (*mode == Mode::kRtmp) {
      plan.rtmp.push_back(std::make_unique<RtmpPlayTarget>(
          stream->app, stream->stream, fmt::format("rtmp://{}/{}", authority, stream->app),
          options.digest));
    } else if (*mode == Mode::kFlv) {
      plan.flv.push_back(std::make_unique<FlvPlayTarget>(authority, stream->path, options.http10));
    } else {
      auto playlist = hls_playlist_path(stream->path, options.hls_playlist);
      if (!playlist) {
        std::fprintf(stderr, "loadgen: %s\n", playlist.error().message.c_str());
        return 2;
      }
      plan.hls.push_back(std::make_unique<HlsPlayTarget>(authority, *playlist, options.hls_skip,
                                                         options.stall_slack_ms));
    }
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  plan.t0_us = monotonic_us() + 20'000;
  const int64_t window_start =
      plan.t0_us + static_cast<int64_t>((options.viewers - 1) * 1e6 / options.ramp_per_s);
  const int64_t window_end = window_start + static_cast<int64_t>(options.duration_s * 1e6);

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint32_t i = 0; i < options.threads; ++i) {
    workers.push_back(std::make_unique<Worker>(plan, i, stop));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });

  int64_t next_report = plan.t0_us + 5'000'000;
  uint64_t last_bytes = 0;
  int64_t last_report = plan.t0_us;
  auto tick = [&](int64_t now) {
    if (options.json || now < next_report) return;
    uint32_t started = 0, playing = 0, failed = 0, ended = 0;
    for (const auto& w : workers) {
      started += w->progress().started.load(std::memory_order_relaxed);
      playing += w->progress().playing.load(std::memory_order_relaxed);
      failed += w->progress().failed.load(std::memory_order_relaxed);
      ended += w->progress().ended.load(std::memory_order_relaxed);
    }
    uint64_t bytes = sum_bytes(workers, false) + sum_bytes(workers, true);
    double mbit = double(bytes - last_bytes) * 8 / (double(now - last_report) / 1e6) / 1e6;
    std::fprintf(stderr,
                 "loadgen: t=%.0fs started %u, playing %u, failed %u, ended early %u, %.1f "
                 "Mbit/s\n",
                 double(now - plan.t0_us) / 1e6, started, playing - ended, failed, ended, mbit);
    last_bytes = bytes;
    last_report = now;
    next_report += 5'000'000;
  };

  uint64_t start_regular = 0, start_slow = 0;
  int64_t measured_from = window_start, measured_to = window_start;
  if (sleep_until(window_start, tick)) {
    start_regular = sum_bytes(workers, false);
    start_slow = sum_bytes(workers, true);
    sleep_until(window_end, tick);
    measured_to = std::min(monotonic_us(), window_end);
  }
  const uint64_t end_regular = sum_bytes(workers, false);
  const uint64_t end_slow = sum_bytes(workers, true);
  stop.store(true);
  for (auto& t : threads) t.join();
  const int64_t finished = monotonic_us();

  RunInfo run;
  run.mode = std::string(mode_name(*mode));
  run.url = options.url;
  run.viewers = options.viewers;
  run.threads = options.threads;
  run.ramp_per_s = options.ramp_per_s;
  run.duration_s = double(finished - plan.t0_us) / 1e6;
  run.window_s = double(std::max<int64_t>(0, measured_to - measured_from)) / 1e6;
  run.window_bytes_regular = run.window_s > 0 ? end_regular - start_regular : 0;
  run.window_bytes_slow = run.window_s > 0 ? end_slow - start_slow : 0;
  run.fps_option = options.fps;
  run.nofile_limit = nofile;
  std::vector<ViewerResult> results;
  results.reserve(options.viewers);
  if (*mode == Mode::kHls) {
    run.hls_playlist = std::string(hls_playlist_name(options.hls_playlist));
    run.stall_slack_ms = options.stall_slack_ms;
  }
  for (auto& w : workers) {
    run.video_deltas.merge(w->video_deltas());
    run.audio_deltas.merge(w->audio_deltas());
    auto& latency = w->hls_state().latency_ms();
    run.hls_latency_ms.insert(run.hls_latency_ms.end(), latency.begin(), latency.end());
    for (auto& r : w->results()) results.push_back(std::move(r));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  run.cpu_user_s = double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) / 1e6;
  run.cpu_system_s = double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) / 1e6;

  Summary summary = summarize(std::move(run), results);
  if (!options.json) std::fputs(to_text(summary).c_str(), stdout);
  std::fputs(to_json(summary).c_str(), stdout);
  return 0;
}
