#include "loadgen/report.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
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
  ttff_ms {p50,p95,max}        TCP connect start -> first video frame arrival
                               (first audio frame if the viewer got no video)
  healthy_fraction   healthy / viewers; healthy = connected, not corrupt, and
                     primary-track frames >= 95% of expected_fps * (end - first frame),
                     end = disconnect or end of run
  lag_ms {p50,p95,max}  how far behind its best a viewer is: drift of a frame =
                     (arrival - first_arrival) - (media_ts - first_media_ts); its
                     lag = drift - the smallest drift of the viewer so far (the
                     GOP-cache burst arrives faster than real time: lag 0), >= 0.
                     p50/p95: across viewers of each viewer's p95 lag;
                     max: the largest lag of any viewer
  -- run --
  slow               the group block for --slow-fraction viewers, or null
  total_mbit_s       both groups' window bytes * 8 / window_s / 1e6
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
                             double window_s, bool primary_video, std::optional<double> fps) {
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
    if (fps && v->connected && !v->corrupt) {
      int64_t first_primary = primary_video ? v->first_video_us : v->first_audio_us;
      uint32_t frames = primary_video ? v->video_frames : v->audio_frames;
      if (first_primary >= 0) {
        double expected = *fps * static_cast<double>(v->end_us - first_primary) / 1e6;
        if (static_cast<double>(frames) >= 0.95 * expected) ++healthy;
      }
    }
  }
  g.mbit_s = window_s > 0 ? static_cast<double>(window_bytes) * 8 / window_s / 1e6 : 0;
  g.ttff_ms = {percentile(ttff, 0.5), percentile(ttff, 0.95), percentile(ttff, 1.0)};
  g.lag_ms = {percentile(lag_p95, 0.5), percentile(lag_p95, 0.95), lag_max};
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
  return fmt::format("{{\"p50\": {}, \"p95\": {}, \"max\": {}}}", num(p.p50, 1), num(p.p95, 1),
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
  s.regular = summarize_group(regular, run.window_bytes_regular, run.window_s, primary_video,
                              s.expected_fps);
  if (!slow.empty()) {
    s.slow =
        summarize_group(slow, run.window_bytes_slow, run.window_s, primary_video, s.expected_fps);
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
  for (const auto& [reason, count] : s.reasons) out += fmt::format("  {} x {}\n", count, reason);
  return out;
}

}  // namespace cascade::loadgen
