#include "vod/vod_hls.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/metrics.h"
#include "core/query_string.h"
#include "media/fmp4_writer.h"
#include "media/mp4_segment_reader.h"
#include "media/mpegts_muxer.h"
#include "net/http_date.h"
#include "vod/fd_source.h"
#include "vod/http_range.h"
#include "vod/vod_hls_playlist.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

spdlog::logger& logger() {
  return log::get("vod");
}

bool is_media(VodHlsResource resource) {
  return resource == VodHlsResource::kInit || resource == VodHlsResource::kFmp4Segment ||
         resource == VodHlsResource::kTsSegment;
}

// 13818-1 wants the PES of both PIDs roughly in decode order: the samples
// merged by decode time (video first on ties).
SharedBytes mux_ts(const media::TrackSet& tracks, const media::Mp4SegmentSamples& samples,
                   uint64_t size_hint, size_t& dropped) {
  media::TsMuxer muxer(tracks);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(size_hint));
  muxer.write_tables(out);
  size_t v = 0, a = 0;
  while (v < samples.video.size() || a < samples.audio.size()) {
    const bool take_video =
        a == samples.audio.size() ||
        (v < samples.video.size() && samples.video[v].dts <= samples.audio[a].dts);
    const media::AvSample& sample = take_video ? samples.video[v++] : samples.audio[a++];
    if (!muxer.write_sample(sample, out)) ++dropped;
  }
  return SharedBytes::copy_of(out);
}

}  // namespace

std::string vod_hls_version(const OpenedFile& file, MediaTimeMs segment_target_ms) {
  return fmt::format("{:x}-{:x}-{:x}-{}", file.inode, file.size, file.mtime_ns, segment_target_ms);
}

awaitable<net::HttpOutcome> answer_vod_hls(VodFileRequest& r, const VodHlsTarget& target,
                                           VodCaches& caches, net::IoPool& io) {
  static Counter& segments_served = Metrics::global().counter("cascade_vod_hls_segments_total");
  static Counter& refused = Metrics::global().counter("cascade_vod_hls_refused_total");
  const MediaTimeMs segment_target_ms = r.settings.hls_segment_target_ms;
  const std::string version = vod_hls_version(r.file, segment_target_ms);
  const std::string etag = fmt::format("\"{}\"", version);

  // ?v= names the version the URI was listed for: another version's bytes
  // are gone (and must not be cached under the immutable URI).
  const std::optional<std::string_view> listed_version = query_value(r.query, "v");
  if (listed_version && *listed_version != version) {
    co_await r.connection.send_text(r.request, http::status::not_found,
                                    "not found: the file has changed since this playlist\n");
    co_return net::HttpOutcome::kResponded;
  }
  const std::string_view cache_control = listed_version && is_media(target.resource)
                                             ? kImmutable
                                             : std::string_view(r.settings.cache_control);

  const FileIdentity id = identity_of(r.file);
  auto index = caches.mp4_indexes.get(r.file.fd, id);
  std::shared_ptr<const VodHlsPlan> plan;
  std::string problem;
  if (!index) {
    problem = index.error().message == "fragmented MP4"
                  ? "a fragmented MP4 has no sample index to cut segments from (serve it whole)"
                  : "cannot index this file: " + index.error().message;
  } else {
    auto planned = caches.hls_plans.get(id, *index.value(), segment_target_ms);
    if (planned) {
      plan = std::move(planned.value());
    } else {
      problem = "cannot serve this file as HLS: " + planned.error().message;
    }
  }
  if (!plan) {
    refused.inc();
    logger().warn("[{}] {}: {}", r.connection.peer(), r.url_path, problem);
    const std::string message = problem + "\n";
    co_await r.connection.send_text(r.request, http::status::unprocessable_entity, message);
    co_return net::HttpOutcome::kResponded;
  }

  const bool segment = target.resource == VodHlsResource::kFmp4Segment ||
                       target.resource == VodHlsResource::kTsSegment;
  if (segment && target.segment >= plan->plan.segments.size()) {
    co_await r.connection.send_text(r.request, http::status::not_found,
                                    "not found: no such segment\n");
    co_return net::HttpOutcome::kResponded;
  }
  // Bounded memory: a hostile sample table may describe huge segments.
  const media::Mp4SegmentLimits limits{r.settings.hls_max_segment_bytes,
                                       r.settings.hls_max_segment_samples};
  Status within = ok_status();
  if (segment) {
    within = media::check_mp4_segment_limits(plan->plan.segments[target.segment], target.segment,
                                             limits);
  }
  if (!within) {
    refused.inc();
    logger().warn("[{}] {}: {}", r.connection.peer(), r.url_path, within.error().message);
    const std::string message = within.error().message + "\n";
    co_await r.connection.send_text(r.request, http::status::unprocessable_entity, message);
    co_return net::HttpOutcome::kResponded;
  }

  // RFC 9110 13.1.2, 13.1.3: If-Modified-Since only without If-None-Match.
  const auto if_none = r.request[http::field::if_none_match];
  bool not_modified = !if_none.empty() && if_none_match(if_none, etag);
  if (if_none.empty()) {
    if (auto since = net::parse_http_date(r.request[http::field::if_modified_since])) {
      not_modified = r.file.mtime_s <= *since;
    }
  }
  if (not_modified) {
    auto header = r.connection.header(r.request, http::status::not_modified, {});
    header.set(http::field::etag, etag);
    header.set(http::field::last_modified, r.last_modified);
    header.set(http::field::cache_control, cache_control);
    const SharedBytes no_body;
    co_await r.connection.send(r.request, std::move(header), no_body);
    co_return net::HttpOutcome::kResponded;
  }

  SharedBytes body;
  switch (target.resource) {
    case VodHlsResource::kMaster:
      body = SharedBytes::copy_of(render_vod_master_playlist(*plan));
      break;
    case VodHlsResource::kFmp4Playlist:
      body =
          SharedBytes::copy_of(render_vod_media_playlist(*plan, VodHlsContainer::kFmp4, version));
      break;
    case VodHlsResource::kTsPlaylist:
      body = SharedBytes::copy_of(render_vod_media_playlist(*plan, VodHlsContainer::kTs, version));
      break;
    case VodHlsResource::kInit:
      body = media::write_fmp4_init_segment(plan->tracks);
      break;
    case VodHlsResource::kFmp4Segment:
    case VodHlsResource::kTsSegment: {
      // Read (the disk) and muxed on the I/O pool; the worker goes on.
      const size_t n = target.segment;
      const std::string peer = r.connection.peer();
      auto produce = [&]() -> Result<SharedBytes> {
        FdSource source(r.file.fd, r.file.size);
        auto samples = media::read_mp4_segment(*index.value(), plan->plan, n, source, limits);
        if (!samples) return samples.error();
        if (target.resource == VodHlsResource::kFmp4Segment) {
          media::Fmp4FragmentInput input;
          input.sequence_number = static_cast<uint32_t>(n + 1);
          input.video = samples->video;
          input.video_end_dts = samples->video_end_dts;
          input.audio = samples->audio;
          return media::write_fmp4_fragment(plan->tracks, input);
        }
        size_t dropped = 0;
        SharedBytes ts = mux_ts(plan->tracks, *samples, plan->sizes[n].ts, dropped);
        if (dropped > 0) {
          logger().info(
              "[{}] {}: segment {}: {} samples could not be muxed (bad NAL framing or "
              "oversized audio frames) and were left out",
              peer, r.url_path, n, dropped);
        }
        return ts;
      };
      Result<SharedBytes> produced = co_await io.run(produce);
      if (!produced) {
        logger().warn("[{}] {}: segment {}: {}", peer, r.url_path, n, produced.error().message);
        const std::string message = "cannot read the segment: " + produced.error().message + "\n";
        co_await r.connection.send_text(r.request, http::status::internal_server_error, message);
        co_return net::HttpOutcome::kResponded;
      }
      body = std::move(produced.value());
      segments_served.inc();
      break;
    }
  }

  auto header =
      r.connection.header(r.request, http::status::ok, vod_hls_content_type(target.resource));
  header.set(http::field::etag, etag);
  header.set(http::field::last_modified, r.last_modified);
  header.set(http::field::cache_control, cache_control);
  co_await r.connection.send(r.request, std::move(header), std::move(body));
  co_return net::HttpOutcome::kResponded;
}

}  // namespace cascade::vod
