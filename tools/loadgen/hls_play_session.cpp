#include "loadgen/hls_play_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>

namespace cascade::loadgen {
namespace {

std::string_view box_type(const std::array<uint8_t, 8>& magic) {
  return {reinterpret_cast<const char*>(magic.data()) + 4, 4};
}

}  // namespace

HlsPlayTarget::HlsPlayTarget(std::string authority_, std::string playlist_path_, bool skip_,
                             int64_t stall_slack_ms)
    : authority(std::move(authority_)),
      playlist_path(std::move(playlist_path_)),
      skip(skip_),
      stall_slack_us(stall_slack_ms * 1000),
      request_tail(
          fmt::format(" HTTP/1.1\r\nHost: {}\r\nUser-Agent: cascade-loadgen\r\nAccept: */*\r\n\r\n",
                      authority)) {}

void HlsThreadState::on_blocking_answer(uint64_t msn, uint32_t part, int64_t sent_us,
                                        int64_t now_us) {
  Arrival& first = first_[(msn * 61 + part) % first_.size()];
  double sample = 0;
  if (first.msn != msn || first.part != part) {
    first = Arrival{msn, part, now_us};
  } else if (sent_us < first.us) {
    sample = static_cast<double>(now_us - first.us) / 1000.0;
  } else {
    return;  // sent after the part was out: it did not block
  }
  ++blocked_;
  if (latency_ms_.size() < kMaxSamples) latency_ms_.push_back(sample);
}

HlsPlaySession::HlsPlaySession(const HlsPlayTarget& target, HlsStats& stats, HlsThreadState* thread)
    : target_(target), stats_(stats), thread_(thread) {}

void HlsPlaySession::corrupt(std::string reason) {
  finish(playing_ ? Outcome::kCorrupt : Outcome::kFailed, std::move(reason));
}

void HlsPlaySession::on_connect(int64_t now_us, std::vector<uint8_t>& out) {
  now_us_ = now_us;
  reader_.reset();
  close_requested_ = false;
  if (in_flight_) {  // the connection closed before the answer: ask again
    Fetch again = std::move(current_);
    send(std::move(again), out);
    return;
  }
  if (!started_) {
    started_ = true;
    playlist_path_ = target_.playlist_path;
    load_start_us_ = now_us;
    Fetch first;
    first.path = playlist_path_;
    send(std::move(first), out);
    return;
  }
  if (timer_us_ == 0 && !stream_ended_) send_next(out);
}

void HlsPlaySession::send(Fetch fetch, std::vector<uint8_t>& out) {
  current_ = std::move(fetch);
  in_flight_ = true;
  sent_us_ = now_us_;
  static constexpr std::string_view kGet = "GET ";
  out.insert(out.end(), kGet.begin(), kGet.end());
  out.insert(out.end(), current_.path.begin(), current_.path.end());
  out.insert(out.end(), target_.request_tail.begin(), target_.request_tail.end());
  ++stats_.requests;
  if (current_.kind == Kind::kPlaylist) {
    ++stats_.playlist_requests;
    if (blocking_) ++stats_.blocking_requests;
  } else {
    ++stats_.media_requests;
  }
}

void HlsPlaySession::send_next(std::vector<uint8_t>& out) {
  if (!queue_.empty()) {
    Fetch next = std::move(queue_.front());
    queue_.pop_front();
    send(std::move(next), out);
    return;
  }
  if (ended_) {
    stream_ended_ = true;
    return;
  }
  if (retry_later_) {
    retry_later_ = false;
    timer_us_ = now_us_ + kRetryUs;
    return;
  }
  send_reload(out);
}

void HlsPlaySession::send_reload(std::vector<uint8_t>& out) {
  Fetch reload;
  reload.path = playlist_path_;
  char separator = reload.path.find('?') == std::string::npos ? '?' : '&';
  if (can_block_) {
    // 8216bis 6.2.5.2: block until the next part (or segment) is listed.
    blocking_ = true;
    block_msn_ = next_msn_;
    block_has_part_ = low_latency_;
    block_part_ = next_part_;
    reload.path += fmt::format("{}_HLS_msn={}", separator, next_msn_);
    if (low_latency_) reload.path += fmt::format("&_HLS_part={}", next_part_);
    separator = '&';
  } else {
    // RFC 8216 6.3.4: wait a Target Duration from the start of the last
    // load after a changed playlist, half of one after an unchanged one.
    const int64_t target = std::max(target_duration_us_, kMinPollUs);
    const int64_t due = changed_ ? load_start_us_ + target : now_us_ + target / 2;
    if (due > now_us_) {
      timer_us_ = due;
      return;
    }
  }
  // 8216bis 6.2.5.1: a delta update.
  if (target_.skip && can_skip_) reload.path += fmt::format("{}_HLS_skip=YES", separator);
  load_start_us_ = now_us_;
  send(std::move(reload), out);
}

void HlsPlaySession::on_timer(int64_t now_us, std::vector<uint8_t>& out) {
  now_us_ = now_us;
  timer_us_ = 0;
  if (in_flight_ || outcome() != Outcome::kActive || !started_ || close_requested_) return;
  if (!queue_.empty()) {
    send_next(out);
    return;
  }
  // A poll, or the retry after an error answer: a plain reload.
  Fetch reload;
  reload.path = playlist_path_;
  load_start_us_ = now_us;
  send(std::move(reload), out);
}

bool HlsPlaySession::on_close(int64_t) {
  if (outcome() != Outcome::kActive || stream_ended_ || !started_) return false;
  // Mid-response, or a new connection that closed before any answer: give up.
  if (!reader_.idle() || (in_flight_ && reader_.responses() == 0)) return false;
  ++stats_.reconnects;
  return true;
}

size_t HlsPlaySession::feed(std::span<const uint8_t> in, int64_t now_us,
                            std::vector<uint8_t>& out) {
  now_us_ = now_us;
  out_ = &out;
  auto consumed = reader_.feed(in, *this);
  if (!consumed) corrupt("http: " + consumed.error().message);
  out_ = nullptr;
  return in.size();
}

bool HlsPlaySession::on_response_head(const ResponseHead& head) {
  if (!in_flight_) {
    corrupt("http: a response to no request");
    return false;
  }
  status_ = head.status;
  head_close_ = head.connection_close;
  body_.clear();
  body_size_ = 0;
  magic_ = {};
  return true;
}

bool HlsPlaySession::on_response_body(std::span<const uint8_t> bytes) {
  if (current_.kind == Kind::kPlaylist && status_ == 200) {
    if (body_.size() + bytes.size() > kMaxPlaylistBytes) {
      corrupt("playlist larger than 1 MiB");
      return false;
    }
    body_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  if (body_size_ < magic_.size()) {
    size_t n = std::min(magic_.size() - static_cast<size_t>(body_size_), bytes.size());
    std::memcpy(magic_.data() + body_size_, bytes.data(), n);
  }
  body_size_ += bytes.size();
  return true;
}

bool HlsPlaySession::on_response_end() {
  in_flight_ = false;
  const bool was_blocking = blocking_;
  blocking_ = false;
  if (head_close_) close_requested_ = true;
  std::vector<uint8_t>& out = *out_;
  if (status_ != 200) {
    if (!playing_) {
      finish(Outcome::kFailed, fmt::format("http status {}", status_));
      return false;
    }
    // A part or segment that is gone is skipped; a playlist is retried.
    ++stats_.http_errors;
    if (current_.kind == Kind::kPlaylist) retry_later_ = true;
  } else if (current_.kind == Kind::kPlaylist) {
    if (was_blocking && thread_) {
      thread_->on_blocking_answer(block_msn_, block_has_part_ ? block_part_ : 0, sent_us_, now_us_);
    }
    auto pl = parse_playlist(body_);
    if (!pl) {
      corrupt("playlist: " + pl.error().message);
      return false;
    }
    if (pl->multivariant) {
      if (have_playlist_ || pl->variants.empty() || playlist_path_ != target_.playlist_path) {
        corrupt("a multivariant playlist without variants, or in place of a media playlist");
        return false;
      }
      auto path = resolve_uri(playlist_path_, pl->variants.front(), target_.authority);
      if (!path) {
        corrupt("variant: " + path.error().message);
        return false;
      }
      playlist_path_ = std::move(*path);
    } else {
      if (!on_media_playlist(*pl, was_blocking)) return false;
    }
  } else if (!check_media()) {
    return false;
  }
  if (close_requested_) return false;  // on_connect() goes on
  if (outcome() != Outcome::kActive) return false;
  if (!playing_ && current_.kind == Kind::kPlaylist) {  // after a multivariant playlist
    Fetch media;
    media.path = playlist_path_;
    load_start_us_ = now_us_;
    send(std::move(media), out);
    return true;
  }
  send_next(out);
  return true;
}

bool HlsPlaySession::on_media_playlist(const HlsPlaylist& pl, bool was_blocking) {
  const uint64_t end_msn = pl.first_listed_msn() + pl.segments.size();
  if (have_playlist_) {
    if (pl.media_sequence < media_sequence_) {
      corrupt(fmt::format("EXT-X-MEDIA-SEQUENCE went back from {} to {}", media_sequence_,
                          pl.media_sequence));
      return false;
    }
    if (end_msn < end_msn_) {
      corrupt(fmt::format("the playlist went back: it ends before msn {}, the last one at {}",
                          end_msn, end_msn_));
      return false;
    }
  }
  const size_t hash = std::hash<std::string_view>{}(body_);
  changed_ = !have_playlist_ || hash != last_hash_;
  last_hash_ = hash;
  media_sequence_ = pl.media_sequence;
  end_msn_ = end_msn;
  have_playlist_ = true;
  playing_ = true;
  low_latency_ = pl.part_target_us.has_value();
  can_block_ = pl.can_block_reload;
  can_skip_ = pl.can_skip_until_us.has_value();
  target_duration_us_ = pl.target_duration_s * 1'000'000;
  ended_ = pl.ended;

  if (was_blocking && !pl.ended) {
    // 8216bis 6.2.5.2: the answer lists the requested part (or segment) or
    // a later one.
    bool satisfied = false;
    for (const HlsSegment& s : pl.segments) {
      if (s.msn > block_msn_ && (s.complete() || !s.parts.empty())) satisfied = true;
      if (s.msn == block_msn_) {
        if (block_has_part_) {
          satisfied = satisfied || s.parts.size() > block_part_ || s.complete();
        } else {
          satisfied = satisfied || s.complete();
        }
      }
    }
    if (!satisfied) ++stats_.unsatisfied_reloads;
  }
  // What was listed stays listed under the same URI.
  if (last_msn_ != UINT64_MAX) {
    if (const HlsSegment* s = pl.find(last_msn_)) {
      const std::string* uri = nullptr;
      if (last_kind_ == Kind::kPart && last_part_ < s->parts.size()) {
        uri = &s->parts[last_part_].uri;
      } else if (last_kind_ == Kind::kSegment && s->complete()) {
        uri = &s->uri;
      }
      if (uri && *uri != last_uri_) {
        corrupt(fmt::format("msn {} part {} changed its URI from '{}' to '{}'", last_msn_,
                            last_part_, last_uri_, *uri));
        return false;
      }
    }
  }
  if (!positioned_) position_at_start(pl);
  return plan(pl);
}

void HlsPlaySession::position_at_start(const HlsPlaylist& pl) {
  positioned_ = true;
  const uint64_t end_msn = pl.first_listed_msn() + pl.segments.size();
  next_msn_ = end_msn;
  next_part_ = 0;
  if (low_latency_) {
    // The newest independent part (a keyframe), else the first part of the
    // newest segment that lists parts.
    for (auto s = pl.segments.rbegin(); s != pl.segments.rend(); ++s) {
      for (size_t i = s->parts.size(); i-- > 0;) {
        if (s->parts[i].independent) {
          next_msn_ = s->msn;
          next_part_ = static_cast<uint32_t>(i);
          return;
        }
      }
    }
    for (auto s = pl.segments.rbegin(); s != pl.segments.rend(); ++s) {
      if (!s->parts.empty()) {
        next_msn_ = s->msn;
        return;
      }
    }
    return;
  }
  for (auto s = pl.segments.rbegin(); s != pl.segments.rend(); ++s) {
    if (s->complete()) {
      next_msn_ = s->msn;
      return;
    }
  }
}

void HlsPlaySession::resync(const HlsPlaylist& pl) {
  ++stats_.gaps;
  position_at_start(pl);
  prev_arrival_us_ = -1;
  lag_base_us_ = -1;
}

bool HlsPlaySession::plan(const HlsPlaylist& pl) {
  int resyncs = 0;
  while (true) {
    const HlsSegment* segment = pl.find(next_msn_);
    if (!segment) {
      if (next_msn_ < pl.first_listed_msn() && resyncs++ == 0) {
        resync(pl);
        continue;
      }
      return true;  // not listed yet
    }
    if (!low_latency_) {
      if (!segment->complete()) return true;
      if (!enqueue(*segment, Kind::kSegment, 0)) return false;
      ++next_msn_;
      continue;
    }
    if (segment->parts.empty()) {
      if (!segment->complete()) return true;
      // Its parts are no longer listed: the whole segment, if none of it
      // was fetched yet; else what is left of it is lost.
      if (next_part_ == 0) {
        if (!enqueue(*segment, Kind::kSegment, 0)) return false;
        ++next_msn_;
        continue;
      }
      if (resyncs++ > 0) return true;
      resync(pl);
      continue;
    }
    if (next_part_ < segment->parts.size()) {
      if (!enqueue(*segment, Kind::kPart, next_part_)) return false;
      ++next_part_;
      continue;
    }
    if (!segment->complete()) return true;
    if (next_part_ > segment->parts.size()) {
      corrupt(fmt::format("segment {} completed with {} parts after {} were listed", segment->msn,
                          segment->parts.size(), next_part_));
      return false;
    }
    ++next_msn_;
    next_part_ = 0;
  }
}

bool HlsPlaySession::enqueue(const HlsSegment& segment, Kind kind, uint32_t part) {
  Fetch fetch;
  fetch.kind = kind;
  fetch.msn = segment.msn;
  fetch.part = part;
  fetch.fmp4 = !segment.map_uri.empty();
  const std::string& uri = kind == Kind::kPart ? segment.parts[part].uri : segment.uri;
  fetch.duration_us = kind == Kind::kPart ? segment.parts[part].duration_us : segment.duration_us;
  auto path = resolve_uri(playlist_path_, uri, target_.authority);
  if (!path) {
    corrupt("playlist: " + path.error().message);
    return false;
  }
  fetch.path = std::move(*path);
  if (fetch.fmp4) {
    auto map = resolve_uri(playlist_path_, segment.map_uri, target_.authority);
    if (!map) {
      corrupt("playlist: EXT-X-MAP: " + map.error().message);
      return false;
    }
    if (*map != map_path_) {
      map_path_ = *map;
      Fetch init;
      init.kind = Kind::kInit;
      init.path = std::move(*map);
      queue_.push_back(std::move(init));
    }
  }
  last_uri_ = uri;
  last_msn_ = segment.msn;
  last_part_ = part;
  last_kind_ = kind;
  queue_.push_back(std::move(fetch));
  return true;
}

bool HlsPlaySession::check_media() {
  const char* what = current_.kind == Kind::kInit   ? "init section"
                     : current_.kind == Kind::kPart ? "part"
                                                    : "segment";
  if (body_size_ == 0) {
    corrupt(fmt::format("empty {} {}", what, current_.path));
    return false;
  }
  if (current_.kind == Kind::kInit || current_.fmp4) {
    const std::string_view type = box_type(magic_);
    bool ok = body_size_ >= 8;
    if (current_.kind == Kind::kInit) {
      ok = ok && type == "ftyp";
    } else if (current_.kind == Kind::kPart) {
      ok = ok && type == "moof";
    } else {
      ok = ok &&
           (type == "moof" || type == "styp" || type == "sidx" || type == "prft" || type == "emsg");
    }
    if (!ok) {
      corrupt(fmt::format("{} {} does not start with an expected fMP4 box", what, current_.path));
      return false;
    }
  } else if (magic_[0] != 0x47 || body_size_ % 188 != 0) {
    corrupt(fmt::format("MPEG-TS {} {} is not whole 188-byte packets starting with 0x47", what,
                        current_.path));
    return false;
  }
  stats_.media_bytes += body_size_;
  if (current_.kind == Kind::kInit) {
    ++stats_.init_sections;
    return true;
  }
  ++(current_.kind == Kind::kPart ? stats_.parts : stats_.segments);
  on_media_arrival(current_.duration_us);
  return true;
}

void HlsPlaySession::on_media_arrival(int64_t duration_us) {
  if (stats_.first_media_us < 0) stats_.first_media_us = now_us_;
  stats_.media_received_us += duration_us;
  // A stall: this item came later than its own duration (plus the slack)
  // after the previous one.
  if (prev_arrival_us_ >= 0) {
    const int64_t late_us = now_us_ - prev_arrival_us_ - duration_us;
    stats_.max_late_ms = std::max(stats_.max_late_ms, late_us / 1000);
    if (late_us > target_.stall_slack_us) ++stats_.stalls;
  }
  prev_arrival_us_ = now_us_;
  // Lag, as MediaTracker's: drift = arrival time since the first item -
  // media time since it, minus the smallest drift so far.
  media_elapsed_us_ += duration_us;
  if (lag_base_us_ < 0) {
    lag_base_us_ = now_us_;
    media_base_us_ = media_elapsed_us_;
    min_drift_ms_ = 0;
  }
  const int64_t drift_ms = ((now_us_ - lag_base_us_) - (media_elapsed_us_ - media_base_us_)) / 1000;
  min_drift_ms_ = std::min(min_drift_ms_, drift_ms);
  stats_.lag.add(drift_ms - min_drift_ms_);
}

}  // namespace cascade::loadgen
