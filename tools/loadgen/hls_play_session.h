// HlsPlaySession: an HLS / LL-HLS player on one persistent HTTP/1.1
// connection, sans-I/O. One request at a time, like a player on HTTP/1.1
// with a single connection:
//
//   1. GET the media playlist (a multivariant playlist: its first variant).
//   2. Start at the newest independent part (LL-HLS: the playlist has
//      EXT-X-PART-INF) or the newest complete segment, then fetch every
//      part / segment after it exactly once, in order (the EXT-X-MAP init
//      section first whenever it changes).
//   3. When caught up, reload the playlist: a blocking reload for the next
//      part (_HLS_msn/_HLS_part, 8216bis 6.2.5.2: what the preload hint
//      names) or segment (_HLS_msn) when the server can block
//      (CAN-BLOCK-RELOAD=YES), with _HLS_skip=YES if asked and offered;
//      otherwise poll (RFC 8216 6.3.4: one Target Duration after a changed
//      playlist, half of it after an unchanged one).
//
// Checks (a violation makes the viewer corrupt and it disconnects): HTTP
// framing (ResponseReader), the playlist parses (hls_playlist.h),
// EXT-X-MEDIA-SEQUENCE and the newest listed msn never go back, a part or
// segment keeps its URI from one playlist to the next, a complete segment
// never lists fewer parts than were fetched, bodies are not empty, fMP4
// parts start with a 'moof' box, segments with moof/styp/sidx/prft/emsg,
// init sections with 'ftyp', MPEG-TS segments with 0x47 in whole 188-byte
// packets. Counted without disconnecting: non-200 answers after the start
// (the viewer resynchronizes), gaps (the next part or segment already left
// the playlist: it resynchronizes at the newest), blocking reloads answered
// without the part or segment they asked for, stalls.
//
// Not thread-safe; one per viewer. The stats outlive the session (the
// worker owns them); HlsThreadState is shared by one thread's viewers.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "loadgen/histograms.h"
#include "loadgen/hls_playlist.h"
#include "loadgen/http_response_reader.h"
#include "loadgen/play_session.h"
#include "loadgen/report.h"

namespace cascade::loadgen {

// What every viewer of a run requests (shared, read-only).
struct HlsPlayTarget {
  HlsPlayTarget(std::string authority, std::string playlist_path, bool skip,
                int64_t stall_slack_ms);
  std::string authority;      // the Host header; absolute URIs must name it
  std::string playlist_path;  // the first request's path (and query)
  bool skip = false;          // ask for delta updates when offered
  int64_t stall_slack_us = 1'000'000;
  std::string request_tail;  // " HTTP/1.1\r\nHost: ...\r\n\r\n"
};

// One viewer's counters (owned by the worker; they outlive the session).
struct HlsStats : HlsCounters {
  int64_t first_media_us = -1;  // arrival of the first part or segment
  DriftHistogram lag;           // like MediaTracker's, per part/segment
};

// Shared by one thread's viewers: the first arrival of the answer to each
// blocking reload target, and the latency samples derived from it.
//
// Blocking-reload latency of a response = its arrival - the first arrival
// of an answer to the same (msn, part) target among this thread's viewers
// (the part's appearance, approximated), counted for requests sent before
// that first arrival (they did block); the first one counts as 0.
class HlsThreadState {
 public:
  void on_blocking_answer(uint64_t msn, uint32_t part, int64_t sent_us, int64_t now_us);
  std::vector<double>& latency_ms() { return latency_ms_; }
  uint64_t blocked() const { return blocked_; }

  static constexpr size_t kMaxSamples = 4'000'000;

 private:
  struct Arrival {
    uint64_t msn = UINT64_MAX;
    uint32_t part = 0;
    int64_t us = 0;
  };
  std::array<Arrival, 1024> first_{};
  std::vector<double> latency_ms_;
  uint64_t blocked_ = 0;
};

class HlsPlaySession final : public PlaySession, private ResponseSink {
 public:
  static constexpr size_t kMaxPlaylistBytes = 1 << 20;
  static constexpr int64_t kRetryUs = 500'000;    // after an error answer
  static constexpr int64_t kMinPollUs = 200'000;  // a Target Duration of 0 polls at this

  HlsPlaySession(const HlsPlayTarget& target, HlsStats& stats, HlsThreadState* thread = nullptr);

  void start(std::vector<uint8_t>& out) override { on_connect(0, out); }
  void on_connect(int64_t now_us, std::vector<uint8_t>& out) override;
  size_t feed(std::span<const uint8_t> in, int64_t now_us, std::vector<uint8_t>& out) override;
  int64_t timer_us() const override { return timer_us_; }
  void on_timer(int64_t now_us, std::vector<uint8_t>& out) override;
  bool on_close(int64_t now_us) override;
  bool close_requested() const override { return close_requested_; }

  // For tests.
  bool low_latency() const { return low_latency_; }
  uint64_t next_msn() const { return next_msn_; }
  uint32_t next_part() const { return next_part_; }
  bool in_flight() const { return in_flight_; }

 private:
  enum class Kind : uint8_t { kPlaylist, kInit, kPart, kSegment };
  struct Fetch {
    Kind kind = Kind::kPlaylist;
    bool fmp4 = true;
    uint64_t msn = 0;
    uint32_t part = 0;
    int64_t duration_us = 0;
    std::string path;
  };

  bool on_response_head(const ResponseHead& head) override;
  bool on_response_body(std::span<const uint8_t> bytes) override;
  bool on_response_end() override;

  void send(Fetch fetch, std::vector<uint8_t>& out);
  void send_next(std::vector<uint8_t>& out);
  void send_reload(std::vector<uint8_t>& out);
  void on_playlist(std::vector<uint8_t>& out);
  bool on_media_playlist(const HlsPlaylist& pl, bool was_blocking);
  void position_at_start(const HlsPlaylist& pl);
  bool plan(const HlsPlaylist& pl);
  bool enqueue(const HlsSegment& segment, Kind kind, uint32_t part);
  bool check_media();
  void on_media_arrival(int64_t duration_us);
  void resync(const HlsPlaylist& pl);
  void corrupt(std::string reason);

  const HlsPlayTarget& target_;
  HlsStats& stats_;
  HlsThreadState* thread_;
  ResponseReader reader_;
  int64_t now_us_ = 0;
  std::vector<uint8_t>* out_ = nullptr;  // during feed()

  // The request in flight (one at a time) and what comes after it.
  Fetch current_;
  bool in_flight_ = false;
  bool started_ = false;  // the first request was sent
  int64_t sent_us_ = 0;
  bool blocking_ = false;
  uint64_t block_msn_ = 0;
  uint32_t block_part_ = 0;
  bool block_has_part_ = false;
  std::deque<Fetch> queue_;
  int64_t timer_us_ = 0;
  bool close_requested_ = false;
  bool retry_later_ = false;  // the last answer was an error: reload after kRetryUs

  // The response being received.
  int status_ = 0;
  bool head_close_ = false;
  std::string body_;  // playlist bodies
  std::array<uint8_t, 8> magic_{};
  uint64_t body_size_ = 0;

  // Playlist state.
  std::string playlist_path_;  // the media playlist (after a multivariant one)
  bool have_playlist_ = false;
  bool low_latency_ = false;
  bool can_block_ = false;
  bool can_skip_ = false;
  int64_t target_duration_us_ = 0;
  uint64_t media_sequence_ = 0;
  uint64_t end_msn_ = 0;  // one past the newest listed segment
  bool ended_ = false;    // EXT-X-ENDLIST
  size_t last_hash_ = 0;
  bool changed_ = false;
  int64_t load_start_us_ = 0;

  // Position: the next part (LL) or segment to enqueue.
  bool positioned_ = false;
  uint64_t next_msn_ = 0;
  uint32_t next_part_ = 0;
  std::string last_uri_;  // of the last enqueued part or segment
  uint64_t last_msn_ = UINT64_MAX;
  uint32_t last_part_ = 0;
  Kind last_kind_ = Kind::kPart;
  std::string map_path_;  // the init section fetched (or queued) last

  // Arrival tracking.
  int64_t prev_arrival_us_ = -1;
  int64_t lag_base_us_ = -1;
  int64_t media_elapsed_us_ = 0;
  int64_t media_base_us_ = 0;
  int64_t min_drift_ms_ = 0;
};

}  // namespace cascade::loadgen
