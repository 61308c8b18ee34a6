// HlsStream: one live stream's HLS output, shared by every worker: the
// segments, parts and init sections its segmenter produced, and its
// playlists, rendered once per update and served to every viewer from the
// same bytes.
//
// Threads: the SegmenterSink side runs on the stream's home worker;
// resolve() and remove_waiter() run on any worker. One mutex guards the
// state; it is taken once per request and once per part, never per viewer
// per packet. Waiting requests park on a timer of their own worker; an update
// wakes them with one post per worker.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/memfd_store.h"
#include "core/shared_bytes.h"
#include "protocols/hls/hls_request.h"
#include "protocols/hls/media_playlist.h"
#include "protocols/hls/segmenter.h"
#include "servers/hls/hls_served.h"
#include "servers/hls/hls_settings.h"

namespace cascade::servers {

struct HlsReply {
  ServedPtr served;
  bool blocking = false;  // a blocking playlist reload: Cache-Control no-store
};

// A request parked until the stream changes.
struct HlsWaiter {
  explicit HlsWaiter(boost::asio::steady_timer timer_, size_t worker_)
      : timer(std::move(timer_)), worker(worker_) {}
  boost::asio::steady_timer timer;
  size_t worker;
};

enum class HlsLookup : uint8_t {
  kFound,       // reply filled
  kWait,        // not yet: the waiter was registered; resolve again when woken
  kMissing,     // 404
  kBadRequest,  // 400 (8216bis 6.2.5.2), error filled
  kTimedOut,    // 503: a blocking reload not satisfied in time
};

class HlsStream : public hls::SegmenterSink {
 public:
  HlsStream(std::string key, std::string epoch, HlsSettings settings);

  const std::string& key() const { return key_; }
  const std::string& epoch() const { return epoch_; }
  // The settings this life of the stream was created with (fixed for its life).
  const HlsSettings& settings() const { return settings_; }

  // Any worker. `may_wait`: false once the request's wait has timed out, so
  // an unsatisfied request gets its final answer instead of kWait. On kWait,
  // `waiter` (if not null) is registered, atomically with the check, to be
  // woken by the next update.
  HlsLookup resolve(const hls::HlsTarget& target, const hls::DeliveryDirectives& directives,
                    bool may_wait, const std::shared_ptr<HlsWaiter>& waiter, HlsReply& reply,
                    std::string& error);
  void remove_waiter(const std::shared_ptr<HlsWaiter>& waiter);
  // How long a request may wait: three Target Durations (8216bis 6.2.5.2).
  int64_t wait_limit_ms() const;

  // Home worker.
  void on_init(uint32_t init_id, const media::TrackSet& tracks, SharedBytes init) override;
  void on_segment_start(const hls::SegmentStart& start) override;
  void on_part(const hls::PartOut& part) override;
  void on_segment_end(const hls::SegmentOut& segment) override;
  void end();  // the stream ended: EXT-X-ENDLIST, wake everyone

 private:
  struct StoredPart {
    hls::PartOut part;
    ServedPtr served;
  };
  struct StoredSegment {
    hls::SegmentStart start;
    MediaTimeMs duration_ms = 0;
    bool complete = false;
    uint32_t video_frames = 0;
    std::vector<StoredPart> parts;
    ServedPtr fmp4, ts;  // set once complete
    // Bytes held for the whole segment in both formats.
    size_t bytes() const { return fmp4 ? fmp4->body_size() + ts->body_size() : 0; }
  };
  // A rendered playlist (null until the first render).
  using Rendered = ServedPtr;

  HlsLookup resolve_playlist(const hls::HlsTarget& target, const hls::DeliveryDirectives& d,
                             bool may_wait, HlsReply& reply, std::string& error);
  HlsLookup resolve_media(const hls::HlsTarget& target, bool may_wait, HlsReply& reply);
  // A rendered playlist, with its cache lifetime: about half the update
  // interval, whole seconds (RFC 9111 max-age).
  Rendered render_playlist(const std::string& text, MediaTimeMs update_ms, int64_t now);
  const StoredSegment* find_segment(uint64_t msn) const;
  StoredSegment* open_segment();
  std::optional<uint64_t> last_complete_msn() const;
  // (msn, part) of the newest published part, if any.
  std::optional<std::pair<uint64_t, uint32_t>> last_part() const;
  bool about_to_exist(const hls::HlsTarget& target) const;

  hls::MediaPlaylist build_model(bool fmp4, bool dvr) const;
  void render_parts_update();    // LL playlists, after every part
  void render_segment_update();  // everything else, after every segment
  void trim();
  void wake_all();
  // A whole segment's response: its body in the stream's memory file when
  // it can be (sent by sendfile), else in user memory. Home worker only.
  ServedPtr make_segment_served(const SharedBytes& bytes, std::string_view content_type,
                                std::string etag, int64_t now);

  const std::string key_;
  const std::string epoch_;
  const HlsSettings settings_;

  // Segment bodies (home worker only; null until the first segment, or when
  // no memory file could be made: then segments stay in user memory).
  std::unique_ptr<MemfdStore> segment_files_;
  bool segment_files_failed_ = false;

  mutable std::mutex mutex_;
  uint32_t target_duration_s_ = 0;
  bool ended_ = false;
  std::map<uint32_t, ServedPtr> inits_;
  media::TrackSet tracks_;
  std::deque<StoredSegment> segments_;
  uint64_t discontinuities_dropped_ = 0;  // EXT-X-DISCONTINUITY-SEQUENCE base
  size_t retained_bytes_ = 0;
  Rendered ll_full_, ll_skip_, fmp4_live_, ts_live_, fmp4_dvr_, ts_dvr_, master_;
  uint64_t render_version_ = 0;
  std::vector<std::shared_ptr<HlsWaiter>> waiters_;
};

}  // namespace cascade::servers
