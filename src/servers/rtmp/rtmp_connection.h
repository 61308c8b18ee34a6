// RtmpConnection: one RTMP client connection on its worker: the socket, the
// protocol state machine (rtmp::ServerSession) and the hub (as publisher or
// as viewer).
//
// Contract: lives on one worker; kept alive by its read coroutine and by
// outstanding writes. Every socket write goes through one queue: command
// replies and control messages (per connection) interleave with the shared
// media packets (per stream) only at message boundaries.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/access_control.h"
#include "core/session_counts.h"
#include "live/hub.h"
#include "live/viewer_sink.h"
#include "net/connection_gate.h"
#include "net/transport.h"
#include "protocols/rtmp/server_session.h"

namespace cascade::servers {

struct RtmpServerConfig {
  rtmp::SessionConfig session;
  uint32_t handshake_timeout_ms = 10'000;
  // A publisher that sends nothing for this long is disconnected.
  uint32_t publisher_idle_timeout_ms = 30'000;
  // A connection past its handshake that is neither publishing nor playing
  // for this long is disconnected, however many other messages (pings,
  // acks, connect, releaseStream...) it sends. 0: no such deadline.
  uint32_t setup_timeout_ms = 0;
  // A closing connection gets this long to flush its last replies.
  uint32_t close_flush_timeout_ms = 2'000;
};

class RtmpConnection final : public std::enable_shared_from_this<RtmpConnection>,
                             public live::ViewerSink {
 public:
  // `config` is the snapshot current when the connection was accepted; the
  // connection keeps it for its life (a reload affects new connections).
  // `access` decides connect, publish and play (src/access); it outlives
  // every connection. `ticket`: the connection's slot in the
  // ConnectionGate, held for its life. `tls`: RTMPS (RTMP inside TLS) with
  // that context; null: plain RTMP. The TLS handshake runs first, under the
  // RTMP handshake timeout.
  RtmpConnection(boost::asio::ip::tcp::socket socket, size_t worker, live::Hub& hub,
                 live::FormatId format, std::shared_ptr<const RtmpServerConfig> config,
                 access::AccessControl& access, net::ConnectionTicket ticket = {},
                 net::TlsContextPtr tls = nullptr);
  ~RtmpConnection() override;

  void start();

  // live::ViewerSink
  void on_start(const live::StreamInfo& info) override;
  void write(std::span<const boost::asio::const_buffer> buffers) override;
  void on_end() override;
  void on_closed(std::string_view reason) override;

 private:
  boost::asio::awaitable<void> run();
  // Publish and play wait for the access decision (the read loop waits
  // with them: nothing from the peer is read meanwhile).
  boost::asio::awaitable<void> handle_events();
  void handle(rtmp::ConnectRequest& request);
  boost::asio::awaitable<void> handle_publish(rtmp::PublishRequest request);
  boost::asio::awaitable<void> handle_play(rtmp::PlayRequest request);
  access::AccessRequest access_request(access::AccessAction action, std::string stream,
                                       std::string query) const;
  void on_connect_decision(const access::AccessDecision& decision);
  void notify_done();
  void handle(rtmp::MediaMessage& media);
  void handle(rtmp::Unpublish&);
  void handle(rtmp::StopPlay&);
  void handle(rtmp::Pause& pause);
  void flush_session_output();
  void kick_writer();
  void on_written(const boost::system::error_code& ec);
  void close_now(std::string_view reason);
  void release_viewer();
  void arm_watchdog();
  void set_context(std::string_view stream);

  net::TcpTransport transport_;  // plain TCP or TLS; all bytes go through it
  const size_t worker_;
  live::Hub& hub_;
  const live::FormatId format_;
  const std::shared_ptr<const RtmpServerConfig> config_owner_;
  const RtmpServerConfig& config_;
  rtmp::ServerSession session_;
  std::string peer_;
  std::string context_;  // "127.0.0.1:51234 live/abc", for logs
  std::string stream_key_;

  access::AccessControl& access_;
  const std::string session_id_;
  std::string client_ip_;
  std::string connect_query_;  // the tcUrl / connect app query
  // The publish or play to report to on_done when it ends.
  std::optional<access::AccessRequest> done_request_;

  std::unique_ptr<live::Publication> publication_;
  std::unique_ptr<live::Viewer> viewer_;
  // A viewer replaced by a new play on this connection while its last batch
  // was still being written; released when that write completes.
  std::unique_ptr<live::Viewer> retired_viewer_;
  uint64_t frames_dropped_ = 0;

  // Write queue.
  std::vector<uint8_t> pending_control_;
  std::vector<uint8_t> inflight_control_;
  std::span<const boost::asio::const_buffer> pending_media_;
  bool media_pending_ = false;
  bool media_inflight_ = false;
  bool writing_ = false;
  std::vector<boost::asio::const_buffer> gather_;

  bool closed_ = false;
  std::optional<std::string> close_reason_;
  SessionCount session_count_{SessionKind::kRtmpOther};
  boost::asio::steady_timer watchdog_;
  boost::asio::steady_timer flush_done_;
  int64_t started_ms_;
  int64_t last_read_ms_;
  // Since when the connection is neither publishing nor playing.
  int64_t unengaged_since_ms_;
  net::ConnectionTicket ticket_;
};

}  // namespace cascade::servers
