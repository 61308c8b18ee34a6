#include "servers/hls/hls_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "core/log.h"
#include "core/percent_encoding.h"
#include "protocols/hls/master_playlist.h"

namespace cascade::servers {

namespace {

constexpr const char* kPlaylistType = "application/vnd.apple.mpegurl";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
// Parts stay fetchable for this many newest segments (the playlist lists
// them for three Target Durations, 8216bis 4.4.4.9; a little more for
// clients that read the playlist just before they were dropped).
constexpr size_t kSegmentsWithParts = 6;

int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SharedBytes to_bytes(const std::string& text) {
  return SharedBytes::copy_of(text);
}

}  // namespace

HlsStream::HlsStream(std::string key, std::string epoch, HlsSettings settings)
    : key_(std::move(key)), epoch_(std::move(epoch)), settings_(settings) {}

int64_t HlsStream::wait_limit_ms() const {
  std::lock_guard lock(mutex_);
  const int64_t target = target_duration_s_ > 0 ? int64_t(target_duration_s_) * 1000
                                                : settings_.segmenter.segment_target_ms;
  return 3 * target;
}

// --- Producer side (home worker) ---

void HlsStream::on_init(uint32_t init_id, const media::TrackSet& tracks, SharedBytes init) {
  auto served =
      make_served(std::move(init), "video/mp4", kImmutable,
                  fmt::format("\"{}-i{}\"", epoch_, init_id), unix_now_s(), settings_.cors_origin);
  std::lock_guard lock(mutex_);
  inits_[init_id] = std::move(served);
  tracks_ = tracks;
}

void HlsStream::on_segment_start(const hls::SegmentStart& start) {
  std::lock_guard lock(mutex_);
  StoredSegment segment;
  segment.start = start;
  segments_.push_back(std::move(segment));
}

void HlsStream::on_part(const hls::PartOut& part) {
  auto served = make_served(part.bytes, "video/iso.segment", kImmutable,
                            fmt::format("\"{}-p{}.{}\"", epoch_, part.msn, part.index),
                            unix_now_s(), settings_.cors_origin);
  {
    std::lock_guard lock(mutex_);
    StoredSegment* open = open_segment();
    if (!open || open->start.msn != part.msn) return;
    retained_bytes_ += part.bytes.size();
    open->parts.push_back(StoredPart{part, std::move(served)});
    if (settings_.low_latency && target_duration_s_ > 0) render_parts_update();
  }
  wake_all();
}

void HlsStream::on_segment_end(const hls::SegmentOut& out) {
  const int64_t now = unix_now_s();
  auto fmp4 = make_segment_served(out.fmp4, "video/iso.segment",
                                  fmt::format("\"{}-s{}\"", epoch_, out.start.msn), now);
  auto ts = make_segment_served(out.ts, "video/mp2t",
                                fmt::format("\"{}-t{}\"", epoch_, out.start.msn), now);
  {
    std::lock_guard lock(mutex_);
    StoredSegment* open = open_segment();
    if (!open || open->start.msn != out.start.msn) return;
    open->complete = true;
    open->duration_ms = out.duration_ms;
    open->video_frames = out.video_frames;
    open->fmp4 = std::move(fmp4);
    open->ts = std::move(ts);
    retained_bytes_ += open->bytes();
    target_duration_s_ = out.target_duration_s;
    trim();
    render_segment_update();
  }
  wake_all();
}

ServedPtr HlsStream::make_segment_served(const SharedBytes& bytes, std::string_view content_type,
                                         std::string etag, int64_t now) {
  // Below this, one gathered write from user memory costs about what
  // sendfile does, and page rounding would waste more of the file.
  constexpr size_t kFileBodyMin = 32 * 1024;
  if (bytes.size() >= kFileBodyMin && !segment_files_failed_) {
    if (!segment_files_) {
      auto store = MemfdStore::create("cascade-hls " + key_);
      if (store) {
        segment_files_ = std::move(store.value());
      } else {
        segment_files_failed_ = true;
        log::get("hls").warn("{}: segments stay in user memory: {}", key_, store.error().message);
      }
    }
    if (segment_files_) {
      auto slice = segment_files_->append(bytes.span());
      if (slice) {
        return make_served(std::move(slice.value()), content_type, kImmutable, std::move(etag), now,
                           settings_.cors_origin);
      }
      log::get("hls").warn("{}: segment kept in user memory: {}", key_, slice.error().message);
    }
  }
  return make_served(bytes, content_type, kImmutable, std::move(etag), now, settings_.cors_origin);
}

void HlsStream::end() {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    // An open segment that never completed is not listed any more.
    if (!segments_.empty() && !segments_.back().complete) segments_.pop_back();
    if (last_complete_msn()) render_segment_update();
  }
  wake_all();
}

HlsStream::StoredSegment* HlsStream::open_segment() {
  if (segments_.empty() || segments_.back().complete) return nullptr;
  return &segments_.back();
}

const HlsStream::StoredSegment* HlsStream::find_segment(uint64_t msn) const {
  if (segments_.empty() || msn < segments_.front().start.msn) return nullptr;
  const uint64_t index = msn - segments_.front().start.msn;
  if (index >= segments_.size()) return nullptr;
  return &segments_[index];
}

std::optional<uint64_t> HlsStream::last_complete_msn() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->complete) return it->start.msn;
  }
  return std::nullopt;
}

std::optional<std::pair<uint64_t, uint32_t>> HlsStream::last_part() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!it->parts.empty()) return std::pair{it->start.msn, uint32_t(it->parts.size() - 1)};
    if (it->complete) break;
  }
  if (auto msn = last_complete_msn()) {
    const StoredSegment* segment = find_segment(*msn);
    if (segment->parts.empty()) return std::nullopt;
    return std::pair{*msn, uint32_t(segment->parts.size() - 1)};
  }
  return std::nullopt;
}

void HlsStream::trim() {
  size_t complete = 0;
  MediaTimeMs duration = 0;
  for (const StoredSegment& s : segments_) {
    if (s.complete) {
      ++complete;
      duration += s.duration_ms;
    }
  }
  // RFC 8216 6.2.2: a segment stays available for a while after it leaves
  // the playlist, so keep twice the window; longer for the DVR window.
  const size_t keep_min = 2 * size_t(settings_.window_segments);
  auto droppable = [&] {
    if (complete <= keep_min || !segments_.front().complete) return false;
    if (settings_.dvr_window_s == 0) return true;
    return duration - segments_.front().duration_ms >= MediaTimeMs(settings_.dvr_window_s) * 1000 ||
           retained_bytes_ > settings_.dvr_max_bytes;
  };
  while (!segments_.empty() && droppable()) {
    StoredSegment& front = segments_.front();
    if (front.start.discontinuity) ++discontinuities_dropped_;
    retained_bytes_ -= front.bytes();
    for (const StoredPart& part : front.parts) retained_bytes_ -= part.part.bytes.size();
    duration -= front.duration_ms;
    --complete;
    segments_.pop_front();
  }
  // Parts of older segments are dropped; the whole segment stays.
  if (segments_.size() > kSegmentsWithParts) {
    for (size_t i = 0; i < segments_.size() - kSegmentsWithParts; ++i) {
      for (const StoredPart& part : segments_[i].parts) retained_bytes_ -= part.part.bytes.size();
      segments_[i].parts.clear();
      segments_[i].parts.shrink_to_fit();
    }
  }
  if (!segments_.empty()) {
    const uint32_t oldest_init = segments_.front().start.init_id;
    std::erase_if(inits_, [&](const auto& entry) { return entry.first < oldest_init; });
  }
}

// --- Rendering (under the lock) ---

hls::MediaPlaylist HlsStream::build_model(bool fmp4, bool dvr) const {
  hls::MediaPlaylist model;
  model.target_duration_s = target_duration_s_;
  model.ended = ended_;
  const bool low_latency = fmp4 && !dvr && settings_.low_latency;
  if (low_latency) {
    const MediaTimeMs part_target = settings_.segmenter.part_target_ms;
    model.low_latency = hls::LowLatencyParams{part_target, 3 * part_target,
                                              6 * MediaTimeMs(target_duration_s_) * 1000};
  }
  size_t complete = 0;
  for (const StoredSegment& s : segments_) complete += s.complete ? 1 : 0;
  size_t skip = 0;  // complete segments before the listed ones
  if (!dvr && complete > settings_.window_segments) skip = complete - settings_.window_segments;
  uint64_t discontinuities = discontinuities_dropped_;
  for (const StoredSegment& s : segments_) {
    if (s.complete && skip > 0) {
      --skip;
      if (s.start.discontinuity) ++discontinuities;
      continue;
    }
    if (!s.complete && !low_latency) continue;
    hls::SegmentEntry entry;
    entry.msn = s.start.msn;
    entry.duration_ms = s.duration_ms;
    entry.program_date_ms = s.start.program_date_ms;
    entry.discontinuity = s.start.discontinuity;
    entry.independent = s.start.independent;
    entry.complete = s.complete;
    entry.uri = fmt::format("{}/s{}.{}", epoch_, s.start.msn, fmp4 ? "m4s" : "ts");
    if (fmp4) entry.map_uri = fmt::format("{}/init{}.mp4", epoch_, s.start.init_id);
    if (low_latency) {
      for (const StoredPart& p : s.parts) {
        entry.parts.push_back(
            hls::PartEntry{p.part.duration_ms, p.part.independent,
                           fmt::format("{}/p{}.{}.m4s", epoch_, p.part.msn, p.part.index)});
      }
    }
    model.segments.push_back(std::move(entry));
  }
  model.discontinuity_sequence = discontinuities;
  return model;
}

void HlsStream::render_parts_update() {
  hls::MediaPlaylist model = build_model(true, false);
  if (model.segments.empty() || !model.last_complete_msn()) return;
  hls::RenderOptions options;
  options.parts_window_ms = 3 * MediaTimeMs(target_duration_s_) * 1000;
  // 8216bis 4.4.5.3: the hint names the part that comes next.
  if (const StoredSegment* open = open_segment()) {
    options.preload_hint_uri =
        fmt::format("{}/p{}.{}.m4s", epoch_, open->start.msn, open->parts.size());
  } else {
    options.preload_hint_uri = fmt::format("{}/p{}.0.m4s", epoch_, *last_complete_msn() + 1);
  }
  const int64_t now = unix_now_s();
  ++render_version_;
  const MediaTimeMs part_ms = settings_.segmenter.part_target_ms;
  ll_full_ = render_playlist(hls::render_media_playlist(model, options), part_ms, now);
  options.skip = true;
  ll_skip_ = render_playlist(hls::render_media_playlist(model, options), part_ms, now);
}

void HlsStream::render_segment_update() {
  const int64_t now = unix_now_s();
  const MediaTimeMs segment_ms = MediaTimeMs(target_duration_s_) * 1000;
  hls::RenderOptions plain;
  if (settings_.low_latency) {
    render_parts_update();
  } else {
    fmp4_live_ = render_playlist(hls::render_media_playlist(build_model(true, false), plain),
                                 segment_ms, now);
  }
  ts_live_ = render_playlist(hls::render_media_playlist(build_model(false, false), plain),
                             segment_ms, now);
  if (settings_.dvr_window_s > 0) {
    fmp4_dvr_ = render_playlist(hls::render_media_playlist(build_model(true, true), plain),
                                segment_ms, now);
    ts_dvr_ = render_playlist(hls::render_media_playlist(build_model(false, true), plain),
                              segment_ms, now);
  }
  // Master: one variant; BANDWIDTH is the peak segment bit rate over the
  // live window (8216bis 4.4.6.2), AVERAGE-BANDWIDTH the mean.
  hls::Variant variant;
  uint64_t total_bytes = 0;
  MediaTimeMs total_ms = 0;
  const StoredSegment* newest = nullptr;
  size_t counted = 0;
  for (auto it = segments_.rbegin(); it != segments_.rend() && counted < settings_.window_segments;
       ++it) {
    if (!it->complete || it->duration_ms <= 0) continue;
    if (!newest) newest = &*it;
    ++counted;
    const uint64_t size = std::max(it->fmp4->body_size(), it->ts->body_size());
    variant.bandwidth = std::max<uint64_t>(variant.bandwidth, size * 8000 / it->duration_ms);
    total_bytes += size;
    total_ms += it->duration_ms;
  }
  if (total_ms > 0) variant.average_bandwidth = total_bytes * 8000 / total_ms;
  std::string codecs;
  if (tracks_.video) {
    codecs = tracks_.video->codec_string;
    variant.width = tracks_.video->width;
    variant.height = tracks_.video->height;
    if (newest && newest->video_frames > 0) {
      variant.frame_rate = double(newest->video_frames) * 1000.0 / double(newest->duration_ms);
    }
  }
  if (tracks_.audio) {
    if (!codecs.empty()) codecs += ',';
    codecs += tracks_.audio->codec_string;
  }
  variant.codecs = codecs;
  const size_t slash = key_.find('/');
  variant.uri = percent_encode(key_.substr(slash + 1)) + "/index.m3u8";
  master_ = render_playlist(hls::render_master_playlist({variant}), segment_ms, now);
}

void HlsStream::wake_all() {
  std::vector<std::shared_ptr<HlsWaiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    waiters.swap(waiters_);
  }
  if (waiters.empty()) return;
  // One post per worker, which wakes all of that worker's waiters.
  std::sort(waiters.begin(), waiters.end(),
            [](const auto& a, const auto& b) { return a->worker < b->worker; });
  size_t begin = 0;
  while (begin < waiters.size()) {
    size_t end = begin;
    while (end < waiters.size() && waiters[end]->worker == waiters[begin]->worker) ++end;
    std::vector<std::shared_ptr<HlsWaiter>> group(waiters.begin() + begin, waiters.begin() + end);
    auto executor = group.front()->timer.get_executor();
    boost::asio::post(executor, [group = std::move(group)] {
      for (const auto& waiter : group) waiter->timer.cancel();
    });
    begin = end;
  }
}

void HlsStream::remove_waiter(const std::shared_ptr<HlsWaiter>& waiter) {
  std::lock_guard lock(mutex_);
  std::erase(waiters_, waiter);
}

// --- Consumer side (any worker) ---

HlsStream::Rendered HlsStream::render_playlist(const std::string& text, MediaTimeMs update_ms,
                                               int64_t now) {
  std::string cache_control = "no-cache";
  if (update_ms / 2 >= 1000) cache_control = fmt::format("public, max-age={}", update_ms / 2000);
  ++render_version_;
  // A blocking response answers one client's one question: no-store.
  return make_served(to_bytes(text), kPlaylistType, cache_control,
                     fmt::format("\"{}-{}\"", epoch_, render_version_), now, settings_.cors_origin,
                     "no-store");
}

HlsLookup HlsStream::resolve(const hls::HlsTarget& target,
                             const hls::DeliveryDirectives& directives, bool may_wait,
                             const std::shared_ptr<HlsWaiter>& waiter, HlsReply& reply,
                             std::string& error) {
  std::lock_guard lock(mutex_);
  HlsLookup result = hls::is_playlist(target.resource)
                         ? resolve_playlist(target, directives, may_wait, reply, error)
                         : resolve_media(target, may_wait, reply);
  if (result == HlsLookup::kWait && waiter) waiters_.push_back(waiter);
  return result;
}

HlsLookup HlsStream::resolve_playlist(const hls::HlsTarget& target,
                                      const hls::DeliveryDirectives& d, bool may_wait,
                                      HlsReply& reply, std::string& error) {
  using hls::Resource;
  const auto last_complete = last_complete_msn();
  if (!last_complete) {
    // Nothing to list yet: a stream that has just started.
    return may_wait && !ended_ ? HlsLookup::kWait : HlsLookup::kMissing;
  }
  const bool dvr =
      target.resource == Resource::kFmp4DvrPlaylist || target.resource == Resource::kTsDvrPlaylist;
  if (target.resource == Resource::kMaster) {
    if (!master_) return HlsLookup::kMissing;
    reply.served = master_;
    return HlsLookup::kFound;
  }
  if (dvr && settings_.dvr_window_s == 0) return HlsLookup::kMissing;
  const bool low_latency = target.resource == Resource::kFmp4Playlist && settings_.low_latency;

  // Blocking playlist reload (8216bis 6.2.5.2).
  if (d.msn) {
    if (*d.msn > *last_complete + 2) {
      error =
          fmt::format("_HLS_msn={} is more than two segments ahead of {}", *d.msn, *last_complete);
      return HlsLookup::kBadRequest;
    }
    bool satisfied = ended_;
    if (low_latency && d.part) {
      const auto newest = last_part();
      // Advance Part Limit: 3 / PART-TARGET (in seconds) if below one second, else 3.
      const MediaTimeMs part_target = settings_.segmenter.part_target_ms;
      const uint64_t limit =
          part_target < 1000 ? uint64_t(3000 / std::max<MediaTimeMs>(1, part_target)) : 3;
      if (newest && *d.msn == newest->first && *d.part > newest->second + limit) {
        error = fmt::format("_HLS_part={} is more than {} parts ahead", *d.part, limit);
        return HlsLookup::kBadRequest;
      }
      if (newest &&
          (newest->first > *d.msn || (newest->first == *d.msn && newest->second >= *d.part))) {
        satisfied = true;
      }
    } else if (*d.msn <= *last_complete) {
      satisfied = true;
    }
    if (!satisfied) return may_wait ? HlsLookup::kWait : HlsLookup::kTimedOut;
  }

  const Rendered* rendered = nullptr;
  switch (target.resource) {
    case Resource::kFmp4Playlist:
      if (low_latency) {
        rendered = d.skip ? &ll_skip_ : &ll_full_;
      } else {
        rendered = &fmp4_live_;
      }
      break;
    case Resource::kTsPlaylist:
      rendered = &ts_live_;
      break;
    case Resource::kFmp4DvrPlaylist:
      rendered = &fmp4_dvr_;
      break;
    case Resource::kTsDvrPlaylist:
      rendered = &ts_dvr_;
      break;
    default:
      return HlsLookup::kMissing;
  }
  if (!*rendered) return HlsLookup::kMissing;
  reply.served = *rendered;
  reply.blocking = d.msn.has_value();
  return HlsLookup::kFound;
}

bool HlsStream::about_to_exist(const hls::HlsTarget& target) const {
  const auto last_complete = last_complete_msn();
  uint64_t current = last_complete ? *last_complete + 1 : 0;
  if (!segments_.empty() && !segments_.back().complete) current = segments_.back().start.msn;
  if (target.resource == hls::Resource::kPart) {
    size_t published = 0;
    if (const StoredSegment* s = find_segment(current); s && !s->complete)
      published = s->parts.size();
    if (target.number == current) return target.part <= published + 2;
    return target.number == current + 1 && target.part <= 2;
  }
  return target.number == current || target.number == current + 1;
}

HlsLookup HlsStream::resolve_media(const hls::HlsTarget& target, bool may_wait, HlsReply& reply) {
  using hls::Resource;
  if (target.epoch != epoch_) return HlsLookup::kMissing;
  if (target.resource == Resource::kInit) {
    auto it = inits_.find(static_cast<uint32_t>(target.number));
    if (it == inits_.end()) return HlsLookup::kMissing;
    reply.served = it->second;
    return HlsLookup::kFound;
  }
  const StoredSegment* segment = find_segment(target.number);
  if (target.resource == Resource::kPart) {
    if (segment && target.part < segment->parts.size()) {
      reply.served = segment->parts[target.part].served;
      return HlsLookup::kFound;
    }
  } else if (segment && segment->complete) {
    reply.served = target.resource == Resource::kTsSegment ? segment->ts : segment->fmp4;
    return HlsLookup::kFound;
  }
  // 8216bis 6.2.6: a request for a part or segment that is about to exist
  // is held until it does.
  if (may_wait && !ended_ && about_to_exist(target)) return HlsLookup::kWait;
  return HlsLookup::kMissing;
}

}  // namespace cascade::servers
