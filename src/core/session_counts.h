// SessionCounts: how many sessions of each kind are open, process-wide, for
// drain progress and the admin stats (and /metrics, as the gauge
// cascade_sessions{kind="..."}).
//
// Contract: a session holds one SessionCount for its life and moves it
// between kinds as its role changes (an RTMP connection that starts to
// publish). Updated per session event (open, role change, close), never per
// packet; reads are relaxed atomics, so a total is a snapshot, not a
// transaction. Any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cascade {

class Gauge;

enum class SessionKind : uint8_t {
  kRtmpPublisher,  // an RTMP connection publishing a stream
  kRtmpViewer,     // an RTMP connection playing a stream
  kRtmpOther,      // an RTMP connection handshaking or between roles
  kHttp,           // an HTTP connection (requests, files, HLS, keep-alive)
  kHttpFlvViewer,  // an HTTP connection turned into a live HTTP-FLV stream
};
inline constexpr size_t kSessionKinds = 5;

// "rtmp_publisher", ... (the metric label and the JSON key).
std::string_view session_kind_name(SessionKind kind);

struct SessionTotals {
  std::array<int64_t, kSessionKinds> by_kind{};
  int64_t total() const;
  int64_t operator[](SessionKind kind) const { return by_kind[static_cast<size_t>(kind)]; }
};

class SessionCounts {
 public:
  static SessionCounts& global();

  void add(SessionKind kind);
  void sub(SessionKind kind);
  SessionTotals totals() const;

 private:
  SessionCounts();
  std::array<Gauge*, kSessionKinds> gauges_{};
};

// One session's place in the counts (RAII). Not thread-safe itself: used on
// the session's worker.
class SessionCount {
 public:
  explicit SessionCount(SessionKind kind) : kind_(kind) { SessionCounts::global().add(kind_); }
  ~SessionCount() { SessionCounts::global().sub(kind_); }
  SessionCount(const SessionCount&) = delete;
  SessionCount& operator=(const SessionCount&) = delete;

  void set_kind(SessionKind kind) {
    if (kind == kind_) return;
    SessionCounts::global().add(kind);
    SessionCounts::global().sub(kind_);
    kind_ = kind;
  }
  SessionKind kind() const { return kind_; }

 private:
  SessionKind kind_;
};

}  // namespace cascade
