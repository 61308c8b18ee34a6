// PlaySession: the protocol side of one virtual viewer, sans-I/O. The worker
// owns the socket; the session turns received bytes into MediaTracker calls
// and bytes to send. One implementation per --mode (rtmp_play_session.h,
// flv_play_session.h, hls_play_session.h), driven by the same worker.
//
// Contract: not thread-safe; one per viewer. on_connect() (start() for the
// streaming sessions) is called when TCP connects; feed() gets received
// bytes (a previous call's unconsumed tail first) and returns how many it
// consumed; the tail it leaves is at most kMaxCarry bytes. Both append bytes
// to send to `out` (never clear it). Once outcome() is not kActive the
// viewer is closed.
//
// A request/response session (HLS) also asks for a call of on_timer() at
// timer_us() (0: none), and may live on several connections: when the
// connection closes, on_close() says whether to open a new one (on_connect()
// then re-sends what is pending), and close_requested() asks the worker to
// close the current one and reconnect (a response with Connection: close).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cascade::loadgen {

class PlaySession {
 public:
  enum class Outcome : uint8_t {
    kActive,
    kFailed,   // setup failed: handshake, HTTP status, _error / onStatus error
    kCorrupt,  // structural error in the received stream
  };
  static constexpr size_t kMaxCarry = 32;

  virtual ~PlaySession() = default;

  virtual void start(std::vector<uint8_t>& out) = 0;
  virtual void on_connect(int64_t /*now_us*/, std::vector<uint8_t>& out) { start(out); }
  virtual size_t feed(std::span<const uint8_t> in, int64_t now_us, std::vector<uint8_t>& out) = 0;
  virtual int64_t timer_us() const { return 0; }
  virtual void on_timer(int64_t /*now_us*/, std::vector<uint8_t>& /*out*/) {}
  // The server closed the connection: true to reconnect, false to end.
  virtual bool on_close(int64_t /*now_us*/) { return false; }
  virtual bool close_requested() const { return false; }

  // Play has started (RTMP: NetStream.Play.Start; HTTP-FLV: 200 response).
  bool playing() const { return playing_; }
  // The server said the stream ended (Play.UnpublishNotify, Stream EOF, the
  // last chunk of a chunked body).
  bool stream_ended() const { return stream_ended_; }
  Outcome outcome() const { return outcome_; }
  const std::string& reason() const { return reason_; }

 protected:
  void finish(Outcome outcome, std::string reason) {
    if (outcome_ != Outcome::kActive) return;
    outcome_ = outcome;
    reason_ = std::move(reason);
  }

  bool playing_ = false;
  bool stream_ended_ = false;

 private:
  Outcome outcome_ = Outcome::kActive;
  std::string reason_;
};

}  // namespace cascade::loadgen
