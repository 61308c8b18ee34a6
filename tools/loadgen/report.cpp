#include "loadgen/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

namespace cascade::loadgen {

const char* const kJsonSchemaDoc =
    R"(JSON summary (stable keys; times in ms unless named _s; null = no sample):
  schema             "cascade-loadgen/1"
  mode, url          what was played
  viewers_requested, threads, ramp_per_s   as given (--viewers, --threads, --ramp)
  duration_s         wall time of the whole run (ramp + window + teardown)
  window_s           measurement window: from the last viewer's start, --duration long
  primary_track      "video" (or "audio" for audio-only streams, "none") : drives health
  expected_fps       frame rate of the primary track used for health
  fps_source         "option" (--fps), "estimated" (median timestamp delta), "none"
  -- group block: regular viewers at the top level; slow viewers in "slow" --
  viewers            viewers in the group
  connected          reached play start (RTMP NetStream.Play.Start / HTTP 200)
  failed             never played: connect, handshake, HTTP status, RTMP _error or
                     onStatus error, closed or timed out (--setup-timeout-ms) in setup
  corrupt            connected viewers with a structural error (chunk/tag sizes,
                     PreviousTagSize, chunked framing, unparseable tag header; the
                     viewer disconnects) or whose first video frame was not a keyframe
  closed_by_server   connected, not corrupt, and closed by the server before the end
  bytes              bytes received by the group over the whole run
  mbit_s             group bytes received inside the window * 8 / window_s / 1e6
  video_frames, audio_frames   coded frames received (sequence headers excluded)
  ts_violations      media timestamps that went backwards, per track (video, audio)
  missing_sequence_header      viewers whose first AVC/HEVC/AV1/VP9 frame came
                               before any sequence header
  ttff_ms {p50,p95,p99,max}        TCP connect start -> first video frame arrival
                               (first audio frame if the viewer got no video)
  healthy_fraction   healthy / viewers; healthy = connected, not corrupt, and
                     primary-track frames >= 95% of expected_fps * (end - first frame),
                     end = disconnect or end of run
  lag_ms {p50,p95,p99,max}  how far behind its best a viewer is: drift of a frame =
                     (arrival - first_arrival) - (media_ts - first_media_ts); its
                     lag = drift - the smallest drift of the viewer so far (the
                     GOP-cache burst arrives faster than real time: lag 0), >= 0.
                     p50/p95/p99: across viewers of each viewer's p95 lag;
                     max: the largest lag of any viewer
  -- run --
  slow               the group block for --slow-fraction viewers, or null
  total_mbit_s       both groups' window bytes * 8 / window_s / 1e6
  hls                null, or for --mode hls (all viewers; TTFF = connect start ->
                     first part/segment received; healthy = connected, not corrupt,
                     got media, no stall, no gap; lag per part/segment):
    playlist           --hls-playlist (index, ts, url)
    requests, requests_per_s   HTTP requests (per second of duration_s)
    playlist_requests, blocking_requests, media_requests (parts, segments, init)
    parts, segments, init_sections, media_bytes   received and checked
    errors             http_errors + gaps + unsatisfied_reloads
    http_errors        non-200 answers after the start (the viewer goes on)
    gaps               resynchronizations: the next part/segment had left the playlist
    unsatisfied_reloads  blocking reloads answered without the part/segment asked for
    reconnects         new connections after the server closed one between answers
    stalls             parts/segments that arrived later than their duration +
                       stall_slack_ms after the previous one
    viewers_with_stalls, max_late_ms (largest inter-arrival - duration), stall_slack_ms
    blocked_reloads    blocking reloads sent before the first answer to the same
                       part reached this thread (they did block)
    playlist_latency_ms {p50,p95,p99,max}  over those: arrival - that first arrival
                       (time from the part's appearance, approximated)
  reasons            {reason: viewers} why viewers failed or ended early (top 10)
  nofile_limit       RLIMIT_NOFILE after raising the soft limit to the hard one
  cpu_s {user,system,total}    loadgen's own CPU time (getrusage)
  cpu_percent        cpu_s.total / duration_s * 100 (200 = two cores busy)
)";

std::optional<double> percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

namespace {

GroupSummary summarize_group(const std::vector<const ViewerResult*>& viewers, uint64_t window_bytes,
                             double window_s, bool primary_video, std::optional<double> fps,
                             bool hls) {
  GroupSummary g;
  std::vector<double> ttff, lag_p95;
  std::optional<double> lag_max;
  uint64_t healthy = 0;
  for (const ViewerResult* v : viewers) {
    ++g.viewers;
    g.connected += v->connected;
    g.failed += v->failed;
    g.corrupt += v->corrupt;
    g.closed_by_server += v->closed_by_server;
    g.missing_sequence_header += v->missing_sequence_header;
    g.bytes += v->bytes;
    g.video_frames += v->video_frames;
    g.audio_frames += v->audio_frames;
    g.ts_violations += v->ts_violations;
    int64_t first = v->first_video_us >= 0 ? v->first_video_us : v->first_audio_us;
    if (first >= 0) ttff.push_back(static_cast<double>(first - v->connect_start_us) / 1000.0);
    if (v->lag_p95_ms) lag_p95.push_back(static_cast<double>(*v->lag_p95_ms));
    if (v->lag_max_ms) {
      lag_max = std::max(lag_max.value_or(static_cast<double>(*v->lag_max_ms)),
                         static_cast<double>(*v->lag_max_ms));
    }
    if (hls) {
      if (v->connected && !v->corrupt && v->first_video_us >= 0 && v->hls.stalls == 0 &&
          v->hls.gaps == 0) {
        ++healthy;
      }
    } else if (fps && v->connected && !v->corrupt) {
      int64_t first_primary = primary_video ? v->first_video_us : v->first_audio_us;
      uint32_t frames = primary_video ? v->video_frames : v->audio_frames;
      if (first_primary >= 0) {
        double expected = *fps * static_cast<double>(v->end_us - first_primary) / 1e6;
        if (static_cast<double>(frames) >= 0.95 * expected) ++healthy;
      }
    }
  }
  g.mbit_s = window_s > 0 ? static_cast<double>(window_bytes) * 8 / window_s / 1e6 : 0;
  g.ttff_ms = {percentile(ttff, 0.5), percentile(ttff, 0.95), percentile(ttff, 0.99),
               percentile(ttff, 1.0)};
  g.lag_ms = {percentile(lag_p95, 0.5), percentile(lag_p95, 0.95), percentile(lag_p95, 0.99),
              lag_max};
  if (g.viewers) g.healthy_fraction = static_cast<double>(healthy) / g.viewers;
  return g;
}

std::string num(std::optional<double> v, int decimals = 3) {
  if (!v || !std::isfinite(*v)) return "null";
  return fmt::format("{:.{}f}", *v, decimals);
}

std::string quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

std::string percentiles_json(const Percentiles& p) {
  return fmt::format("{{\"p50\": {}, \"p95\": {}, \"p99\": {}, \"max\": {}}}", num(p.p50, 1),
                     num(p.p95, 1), num(p.p99, 1),
                     num(p.max, 1));
}

// The group keys, in order; `indent` prefixes each line.
std::string group_json(const GroupSummary& g, std::string_view indent) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{}\"{}\": {},\n", indent, key, value);
  };
  line("viewers", std::to_string(g.viewers));
  line("connected", std::to_string(g.connected));
  line("failed", std::to_string(g.failed));
  line("corrupt", std::to_string(g.corrupt));
  line("closed_by_server", std::to_string(g.closed_by_server));
  line("bytes", std::to_string(g.bytes));
  line("mbit_s", num(g.mbit_s));
  line("video_frames", std::to_string(g.video_frames));
  line("audio_frames", std::to_string(g.audio_frames));
  line("ts_violations", std::to_string(g.ts_violations));
  line("missing_sequence_header", std::to_string(g.missing_sequence_header));
  line("ttff_ms", percentiles_json(g.ttff_ms));
  line("healthy_fraction", num(g.healthy_fraction, 4));
  line("lag_ms", percentiles_json(g.lag_ms));
  return out;
}

}  // namespace

Summary summarize(RunInfo run, const std::vector<ViewerResult>& viewers) {
  Summary s;
  std::vector<const ViewerResult*> regular, slow;
  uint64_t video = 0, audio = 0;
  std::map<std::string, uint64_t> reasons;
  for (const ViewerResult& v : viewers) {
    (v.slow ? slow : regular).push_back(&v);
    video += v.video_frames;
    audio += v.audio_frames;
    if (!v.reason.empty()) ++reasons[v.reason];
  }
  const bool primary_video = video > 0;
  s.primary_track = video > 0 ? "video" : audio > 0 ? "audio" : "none";
  s.fps_source = "none";
  if (primary_video && run.fps_option) {
    s.expected_fps = run.fps_option;
    s.fps_source = "option";
  } else if (auto typical = (primary_video ? run.video_deltas : run.audio_deltas).typical_ms();
             typical && (video > 0 || audio > 0)) {
    s.expected_fps = 1000.0 / *typical;
    s.fps_source = "estimated";
  }
  const bool hls = run.mode == "hls";
  s.regular = summarize_group(regular, run.window_bytes_regular, run.window_s, primary_video,
                              s.expected_fps, hls);
  if (!slow.empty()) {
    s.slow = summarize_group(slow, run.window_bytes_slow, run.window_s, primary_video,
                             s.expected_fps, hls);
  }
  if (hls) {
    HlsSummary h;
    HlsCounters& t = h.totals;
    for (const ViewerResult& v : viewers) {
      const HlsCounters& c = v.hls;
      t.requests += c.requests;
      t.playlist_requests += c.playlist_requests;
      t.blocking_requests += c.blocking_requests;
      t.media_requests += c.media_requests;
      t.parts += c.parts;
      t.segments += c.segments;
      t.init_sections += c.init_sections;
      t.media_bytes += c.media_bytes;
      t.http_errors += c.http_errors;
      t.gaps += c.gaps;
      t.unsatisfied_reloads += c.unsatisfied_reloads;
      t.stalls += c.stalls;
      t.reconnects += c.reconnects;
      t.max_late_ms = std::max(t.max_late_ms, c.max_late_ms);
      t.media_received_us += c.media_received_us;
      h.viewers_with_stalls += c.stalls > 0;
    }
    h.requests_per_s = run.duration_s > 0 ? double(t.requests) / run.duration_s : 0;
    h.blocked_reloads = run.hls_latency_ms.size();
    std::sort(run.hls_latency_ms.begin(), run.hls_latency_ms.end());
    h.latency_p50 = percentile(run.hls_latency_ms, 0.5);
    h.latency_p95 = percentile(run.hls_latency_ms, 0.95);
    h.latency_p99 = percentile(run.hls_latency_ms, 0.99);
    h.latency_max = percentile(run.hls_latency_ms, 1.0);
    s.hls = h;
  }
  s.total_mbit_s = run.window_s > 0
                       ? static_cast<double>(run.window_bytes_regular + run.window_bytes_slow) * 8 /
                             run.window_s / 1e6
                       : 0;
  std::vector<std::pair<std::string, uint64_t>> sorted(reasons.begin(), reasons.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (sorted.size() > kMaxReasons) sorted.resize(kMaxReasons);
  s.reasons = {sorted.begin(), sorted.end()};
  s.run = std::move(run);
  return s;
}

std::string to_json(const Summary& s) {
  const RunInfo& r = s.run;
  std::string out = "{\n";
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("  \"{}\": {},\n", key, value);
  };
  line("schema", quote("cascade-loadgen/1"));
  line("mode", quote(r.mode));
  line("url", quote(r.url));
  line("viewers_requested", std::to_string(r.viewers));
  line("threads", std::to_string(r.threads));
  line("ramp_per_s", num(r.ramp_per_s, 1));
  line("duration_s", num(r.duration_s));
  line("window_s", num(r.window_s));
  line("primary_track", quote(s.primary_track));
  line("expected_fps", num(s.expected_fps));
  line("fps_source", quote(s.fps_source));
  out += group_json(s.regular, "  ");
  if (s.slow) {
    out += "  \"slow\": {\n" + group_json(*s.slow, "    ");
    out.erase(out.size() - 2);  // the last ",\n"
    out += "\n  },\n";
  } else {
    line("slow", "null");
  }
  line("total_mbit_s", num(s.total_mbit_s));
  if (s.hls) {
    const HlsSummary& h = *s.hls;
    const HlsCounters& t = h.totals;
    out += "  \"hls\": {\n";
    auto item = [&](std::string_view key, const std::string& value) {
      out += fmt::format("    \"{}\": {},\n", key, value);
    };
    item("playlist", quote(r.hls_playlist));
    item("requests", std::to_string(t.requests));
    item("requests_per_s", num(h.requests_per_s, 1));
    item("playlist_requests", std::to_string(t.playlist_requests));
    item("blocking_requests", std::to_string(t.blocking_requests));
    item("media_requests", std::to_string(t.media_requests));
    item("parts", std::to_string(t.parts));
    item("segments", std::to_string(t.segments));
    item("init_sections", std::to_string(t.init_sections));
    item("media_bytes", std::to_string(t.media_bytes));
    item("errors", std::to_string(uint64_t(t.http_errors) + t.gaps + t.unsatisfied_reloads));
    item("http_errors", std::to_string(t.http_errors));
    item("gaps", std::to_string(t.gaps));
    item("unsatisfied_reloads", std::to_string(t.unsatisfied_reloads));
    item("reconnects", std::to_string(t.reconnects));
    item("stalls", std::to_string(t.stalls));
    item("viewers_with_stalls", std::to_string(h.viewers_with_stalls));
    item("max_late_ms", std::to_string(t.max_late_ms));
    item("stall_slack_ms", std::to_string(r.stall_slack_ms));
    item("blocked_reloads", std::to_string(h.blocked_reloads));
    out += fmt::format(
        "    \"playlist_latency_ms\": {{\"p50\": {}, \"p95\": {}, \"p99\": {}, \"max\": {}}}\n"
        "  }},\n",
        num(h.latency_p50, 3), num(h.latency_p95, 3), num(h.latency_p99, 3), num(h.latency_max, 3));
  } else {
    line("hls", "null");
  }
  std::string reasons = "{";
  for (const auto& [reason, count] : s.reasons) {
    if (reasons.size() > 1) reasons += ", ";
    reasons += fmt::format("{}: {}", quote(reason), count);
  }
  line("reasons", reasons + "}");
  line("nofile_limit", std::to_string(r.nofile_limit));
  double cpu = r.cpu_user_s + r.cpu_system_s;
  line("cpu_s", fmt::format("{{\"user\": {}, \"system\": {}, \"total\": {}}}", num(r.cpu_user_s),
                            num(r.cpu_system_s), num(cpu)));
  out += fmt::format("  \"cpu_percent\": {}\n}}\n",
                     num(r.duration_s > 0 ? cpu / r.duration_s * 100 : 0.0, 1));
  return out;
}

std::string to_text(const Summary& s) {
  auto group = [](std::string_view name, const GroupSummary& g) {
    return fmt::format(
        "{}: {} viewers, {} connected, {} failed, {} corrupt, {} closed by server; "
        "{} Mbit/s; {} video + {} audio frames; ttff p50/p95/max {}/{}/{} ms; healthy {}; "
        "lag p50/p95/max {}/{}/{} ms\n",
        name, g.viewers, g.connected, g.failed, g.corrupt, g.closed_by_server, num(g.mbit_s, 1),
        g.video_frames, g.audio_frames, num(g.ttff_ms.p50, 0), num(g.ttff_ms.p95, 0),
        num(g.ttff_ms.max, 0), num(g.healthy_fraction, 3), num(g.lag_ms.p50, 0),
        num(g.lag_ms.p95, 0), num(g.lag_ms.max, 0));
  };
  std::string out = group("viewers", s.regular);
  if (s.slow) out += group("slow viewers", *s.slow);
  if (s.hls) {
    const HlsSummary& h = *s.hls;
    const HlsCounters& t = h.totals;
    out += fmt::format(
        "hls: {} requests ({:.0f}/s; {} playlist, {} blocking, {} media), {} parts + {} "
        "segments; {} http errors, {} gaps, {} unsatisfied reloads, {} reconnects; {} stalls "
        "({} viewers); blocking reload latency p50/p95/p99/max {}/{}/{}/{} ms over {}\n",
        t.requests, h.requests_per_s, t.playlist_requests, t.blocking_requests, t.media_requests,
        t.parts, t.segments, t.http_errors, t.gaps, t.unsatisfied_reloads, t.reconnects, t.stalls,
        h.viewers_with_stalls, num(h.latency_p50, 2), num(h.latency_p95, 2), num(h.latency_p99, 2),
        num(h.latency_max, 2), h.blocked_reloads);
  }
  for (const auto& [reason, count] : s.reasons) out += fmt::format("  {} x {}\n", count, reason);
  return out;
}

}  // namespace cascade::loadgen
