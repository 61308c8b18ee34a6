#include "servers/rtmp/rtmp_connection.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "core/log.h"
#include "core/metrics.h"
#include "live/stream_key.h"
#include "media/flv_frame.h"
#include "net/endpoint.h"
#include "net/socket_options.h"

namespace cascade::servers {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {

spdlog::logger& logger() {
  return log::get("rtmp");
}

Counter& closed_counter(std::string_view reason) {
  return Metrics::global().counter(
      fmt::format("cascade_rtmp_connections_closed_total{{reason=\"{}\"}}", reason));
}

}  // namespace

RtmpConnection::RtmpConnection(boost::asio::ip::tcp::socket socket, size_t worker, live::Hub& hub,
                               live::FormatId format,
                               std::shared_ptr<const RtmpServerConfig> config,
                               access::AccessControl& access, net::ConnectionTicket ticket,
                               net::TlsContextPtr tls)
    : transport_(std::move(socket), std::move(tls)),
      worker_(worker),
      hub_(hub),
      format_(format),
      config_owner_(std::move(config)),
      config_(*config_owner_),
      session_(config_.session),
      access_(access),
      session_id_(access::next_session_id()),
      watchdog_(transport_.get_executor()),
      flush_done_(transport_.get_executor()),
      started_ms_(steady_now_ms()),
      last_read_ms_(started_ms_),
      unengaged_since_ms_(started_ms_),
      ticket_(std::move(ticket)) {
  boost::system::error_code ec;
  auto remote = transport_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown" : net::to_string(remote);
  context_ = peer_;
  client_ip_ = access::client_ip(transport_.socket());
  transport_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  Metrics::global().gauge("cascade_rtmp_connections").add(1);
}

RtmpConnection::~RtmpConnection() {
  Metrics::global().gauge("cascade_rtmp_connections").sub(1);
}

void RtmpConnection::start() {
  arm_watchdog();
  boost::asio::co_spawn(
      transport_.get_executor(), [self = shared_from_this()] { return self->run(); },
      boost::asio::detached);
}

void RtmpConnection::set_context(std::string_view stream) {
  context_ = fmt::format("{} {}", peer_, stream);
}

awaitable<void> RtmpConnection::run() {
  // Read buffer sized by role: handshake and commands need little, a
  // publisher's media wants large reads, a player only sends acks and pings
  // (its memory is per viewer, so it stays small).
  constexpr size_t kSetupBuffer = 4096, kPublisherBuffer = 64 * 1024, kPlayerBuffer = 512;
  if (transport_.is_tls()) {
    // RTMPS: TLS first (the watchdog's handshake timeout covers it: the RTMP
    // session is still in its handshake state).
    boost::system::error_code ec;
    co_await transport_.async_handshake(boost::asio::redirect_error(use_awaitable, ec));
    if (ec) {
      static Counter& failed =
          Metrics::global().counter("cascade_tls_handshake_failures_total{listener=\"rtmps\"}");
      failed.inc();
      closed_counter("tls_handshake").inc();
      close_now(close_reason_ ? "TLS handshake failed: " + *close_reason_
                              : "TLS handshake failed: " + ec.message());
      co_return;
    }
  }
  std::vector<uint8_t> buffer(kSetupBuffer);
  size_t have = 0;
  while (!closed_) {
    size_t wanted = publication_ ? kPublisherBuffer : viewer_ ? kPlayerBuffer : kSetupBuffer;
    if (buffer.size() != wanted && have <= wanted / 2) {
      std::vector<uint8_t> resized(wanted);
      std::memcpy(resized.data(), buffer.data(), have);
      buffer.swap(resized);
    }
    boost::system::error_code ec;
    size_t n = co_await transport_.async_read_some(
        boost::asio::buffer(buffer.data() + have, buffer.size() - have),
        boost::asio::redirect_error(use_awaitable, ec));
    if (ec) {
      // A reason set before the socket was closed under this read (watchdog
      // timeout, dropped viewer, failed write) is the real one.
      if (!closed_ && !close_reason_) {
        close_reason_ = ec == boost::asio::error::eof ? "peer closed the connection"
                                                      : "read failed: " + ec.message();
      }
      break;
    }
    last_read_ms_ = steady_now_ms();
    have += n;
    auto consumed = session_.feed(std::span(buffer.data(), have));
    co_await handle_events();
    if (closed_) break;
    if (!consumed) {
      closed_counter("protocol_error").inc();
      close_reason_ = "protocol error: " + consumed.error().message;
      break;
    }
    std::memmove(buffer.data(), buffer.data() + *consumed, have - *consumed);
    have -= *consumed;
    if (have == buffer.size()) {
      // The session consumes whole chunks incrementally; a full buffer it
      // cannot consume means a header larger than any valid one.
      close_reason_ = "protocol error: unparseable input";
      break;
    }
    for (const std::string& notice : session_.notices()) {
      logger().info("[{}] {}", context_, notice);
    }
    session_.notices().clear();
    if (session_.close_reason()) {
      close_reason_ = *session_.close_reason();
      break;
    }
    flush_session_output();
  }

  // Send the replies the peer earned (e.g. the onStatus for a refused
  // publish), bounded in time, then close.
  flush_session_output();
  if (writing_ && !closed_) {
    flush_done_.expires_after(std::chrono::milliseconds(config_.close_flush_timeout_ms));
    boost::system::error_code ec;
    co_await flush_done_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
  }
  close_now(close_reason_.value_or("closed"));
}

awaitable<void> RtmpConnection::handle_events() {
  auto& events = session_.events();
  // Handlers may call back into the session, which may add events.
  for (size_t i = 0; i < events.size(); ++i) {
    rtmp::SessionEvent event = std::move(events[i]);
    if (auto* publish = std::get_if<rtmp::PublishRequest>(&event)) {
      co_await handle_publish(std::move(*publish));
    } else if (auto* play = std::get_if<rtmp::PlayRequest>(&event)) {
      co_await handle_play(std::move(*play));
    } else {
      std::visit(
          [this](auto& e) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, rtmp::PublishRequest> &&
                          !std::is_same_v<std::decay_t<decltype(e)>, rtmp::PlayRequest>) {
              handle(e);
            }
          },
          event);
    }
    // Closed while a decision was awaited (watchdog, refused on_connect):
    // the remaining events are moot.
    if (closed_ || session_.close_reason()) break;
  }
  events.clear();
}

access::AccessRequest RtmpConnection::access_request(access::AccessAction action,
                                                     std::string stream, std::string query) const {
  access::AccessRequest request;
  request.action = action;
  request.protocol = access::AccessProtocol::kRtmp;
  request.app = session_.app();
  request.stream = std::move(stream);
  request.client_ip = client_ip_;
  request.query = std::move(query);
  request.connect_query = connect_query_;
  request.session_id = session_id_;
  request.worker = worker_;
  return request;
}

void RtmpConnection::handle(rtmp::ConnectRequest& request) {
  logger().debug("[{}] connect app={} tcUrl={} flashVer={}", context_, request.app, request.tc_url,
                 request.flash_ver);
  connect_query_ = request.query;
  session_.accept_connect();
  if (access_.open(access::AccessAction::kConnect, request.app)) return;
  // on_connect never delays the session: its answer comes while the
  // client goes on; a refusal then closes the connection.
  boost::asio::co_spawn(
      transport_.get_executor(),
      [self = shared_from_this(), checked = access_request(access::AccessAction::kConnect, {},
                                                           {})]() mutable -> awaitable<void> {
        access::AccessResult result = co_await self->access_.check(std::move(checked));
        self->on_connect_decision(result.decision);
      },
      boost::asio::detached);
}

void RtmpConnection::on_connect_decision(const access::AccessDecision& decision) {
  if (decision.allowed() || closed_ || close_reason_) return;
  closed_counter("access_denied").inc();
  logger().warn("[{}] connect refused by on_connect: {}", context_, decision.reason);
  session_.revoke_connect(decision.reason, decision.redirect_url);
  flush_session_output();
  close_reason_ = "connect refused: " + decision.reason;
  // Stop what runs; the writer closes once the refusal is sent.
  if (publication_) {
    publication_->end();
    publication_.reset();
  }
  if (viewer_) {
    viewer_->set_paused(true);
    release_viewer();
  }
  if (!writing_) close_now(*close_reason_);
}

awaitable<void> RtmpConnection::handle_publish(rtmp::PublishRequest request) {
  auto key = live::make_stream_key(session_.app(), request.stream);
  if (!key) {
    session_.reject_publish("NetStream.Publish.BadName", key.error().message);
    co_return;
  }
  set_context(*key);
  if (!access_.open(access::AccessAction::kPublish, session_.app())) {
    access::AccessRequest checked =
        access_request(access::AccessAction::kPublish, request.stream, request.query);
    access::AccessResult result = co_await access_.check(std::move(checked));
    if (closed_ || close_reason_) co_return;
    if (!result.decision.allowed()) {
      closed_counter("access_denied").inc();
      logger().warn("[{}] publish refused: {}", context_, result.decision.reason);
      session_.reject_publish("NetStream.Publish.Rejected", result.decision.reason,
                              result.decision.redirect_url);
      co_return;
    }
  }
  live::PublishRefusal refusal = live::PublishRefusal::kInUse;
  // An operator's kick (Hub::stop_publisher) closes this connection on its
  // own worker.
  auto stop = [weak = weak_from_this(), executor = transport_.get_executor()] {
    boost::asio::post(executor, [weak] {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      closed_counter("kicked").inc();
      self->close_reason_ = "kicked by an operator";
      self->transport_.close();  // the read loop ends and ends the publication
    });
  };
  auto publication = hub_.publish(*key, worker_, &refusal, std::move(stop));
  if (!publication) {
    closed_counter("publish_refused").inc();
    // A full server is not the name's fault: Rejected (as nginx-rtmp and
    // SRS answer refused publishes), so clients need not try another name.
    session_.reject_publish(refusal == live::PublishRefusal::kInUse ? "NetStream.Publish.BadName"
                                                                    : "NetStream.Publish.Rejected",
                            publication.error().message);
    co_return;
  }
  stream_key_ = *key;
  publication_ = std::move(publication.value());
  session_count_.set_kind(SessionKind::kRtmpPublisher);
  done_request_ = access_request(access::AccessAction::kDone, request.stream, request.query);
  session_.accept_publish(request.stream);
  logger().info("[{}] publish started ({}{})", context_, request.type,
                publication_->resumed() ? ", resuming the stream" : "");
}

awaitable<void> RtmpConnection::handle_play(rtmp::PlayRequest request) {
  auto key = live::make_stream_key(session_.app(), request.stream);
  if (!key) {
    session_.reject_play("NetStream.Play.StreamNotFound", key.error().message);
    co_return;
  }
  set_context(*key);
  if (!access_.open(access::AccessAction::kPlay, session_.app())) {
    access::AccessRequest checked =
        access_request(access::AccessAction::kPlay, request.stream, request.query);
    access::AccessResult result = co_await access_.check(std::move(checked));
    if (closed_ || close_reason_) co_return;
    if (!result.decision.allowed()) {
      closed_counter("access_denied").inc();
      logger().warn("[{}] play refused: {}", context_, result.decision.reason);
      if (result.decision.kind == access::AccessDecision::Kind::kRedirect) {
        session_.reject_play("NetStream.Play.Rejected", result.decision.reason,
                             result.decision.redirect_url);
      } else {
        session_.reject_play("NetStream.Play.Failed", result.decision.reason);
      }
      co_return;
    }
  }
  // A play after closeStream on this connection: the previous viewer goes
  // first, so it is not still counted in the feed the new one joins.
  release_viewer();
  viewer_ = hub_.subscribe(*key, format_, worker_, *this);
  if (!viewer_) {
    closed_counter("stream_not_found").inc();
    session_.reject_play("NetStream.Play.StreamNotFound", fmt::format("{} is not live", *key));
    co_return;
  }
  stream_key_ = *key;
  session_count_.set_kind(SessionKind::kRtmpViewer);
  done_request_ = access_request(access::AccessAction::kDone, request.stream, request.query);
  net::limit_unsent_bytes(transport_.socket());  // so the hub sees this viewer's lag
  session_.accept_play(request.stream);
  flush_session_output();  // the onStatus replies go before any media
  logger().info("[{}] play started", context_);
  viewer_->start();
}

void RtmpConnection::handle(rtmp::MediaMessage& media) {
  if (!publication_) return;
  const rtmp::Message& message = media.message;
  auto frame = media::frame_from_flv_tag(message.type_id, message.payload, media.metadata);
  if (!frame) {
    // Malformed audio/video bodies are dropped and counted, not logged each.
    static Counter& dropped = Metrics::global().counter("cascade_rtmp_frames_dropped_total");
    dropped.inc();
    ++frames_dropped_;
    return;
  }
  publication_->push(std::move(*frame), message.timestamp);
}

void RtmpConnection::handle(rtmp::Unpublish&) {
  if (!publication_) return;
  logger().info("[{}] unpublished", context_);
  notify_done();
  publication_->end();
  publication_.reset();
  unengaged_since_ms_ = steady_now_ms();
  session_count_.set_kind(SessionKind::kRtmpOther);
}

void RtmpConnection::handle(rtmp::StopPlay&) {
  if (!viewer_) return;
  logger().info("[{}] play stopped", context_);
  notify_done();
  // Stop delivering now; the viewer leaves the stream (once a write of its
  // still in flight completes, see release_viewer).
  viewer_->set_paused(true);
  release_viewer();
}

void RtmpConnection::handle(rtmp::Pause& pause) {
  if (viewer_) viewer_->set_paused(pause.paused);
}

void RtmpConnection::on_start(const live::StreamInfo&) {}

void RtmpConnection::write(std::span<const boost::asio::const_buffer> buffers) {
  pending_media_ = buffers;
  media_pending_ = true;
  kick_writer();
}

void RtmpConnection::on_end() {
  logger().info("[{}] stream ended; closing", context_);
  session_.notify_play_ended(stream_key_);
  flush_session_output();
  // The read loop sees close_reason() on its next wake; wake it now.
  close_reason_ = "stream ended";
  if (!writing_) {
    close_now("stream ended");
  }
}

void RtmpConnection::on_closed(std::string_view reason) {
  closed_counter("viewer_dropped").inc();
  logger().info("[{}] viewer dropped: {}", context_, reason);
  close_reason_ = std::string(reason);
  transport_.close();  // the read loop ends and releases the viewer
}

void RtmpConnection::flush_session_output() {
  auto& out = session_.output();
  if (out.empty()) return;
  pending_control_.insert(pending_control_.end(), out.begin(), out.end());
  out.clear();
  kick_writer();
}

void RtmpConnection::kick_writer() {
  if (writing_ || closed_) return;
  gather_.clear();
  if (!pending_control_.empty()) {
    inflight_control_.swap(pending_control_);
    pending_control_.clear();
    gather_.push_back(boost::asio::buffer(inflight_control_));
  }
  if (media_pending_) {
    gather_.insert(gather_.end(), pending_media_.begin(), pending_media_.end());
    media_pending_ = false;
    media_inflight_ = true;
  }
  if (gather_.empty()) {
    flush_done_.cancel();
    if (close_reason_ && session_.close_reason()) close_now(*close_reason_);
    return;
  }
  writing_ = true;
  boost::asio::async_write(
      transport_, gather_,
      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->on_written(ec); });
}

void RtmpConnection::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  inflight_control_.clear();
  bool media = std::exchange(media_inflight_, false);
  if (ec && !closed_) {
    // Keep a reason set before the socket was closed under this write.
    if (!close_reason_) close_reason_ = "write failed: " + ec.message();
    transport_.close();
  }
  if (media && retired_viewer_) {
    // The batch just written was the replaced viewer's (see release_viewer).
    retired_viewer_->on_write_complete(!ec);
    retired_viewer_.reset();
  } else if (media && viewer_) {
    viewer_->on_write_complete(!ec);
  }
  if (!ec) kick_writer();
}

void RtmpConnection::release_viewer() {
  if (!viewer_) return;
  unengaged_since_ms_ = steady_now_ms();
  session_count_.set_kind(SessionKind::kRtmpOther);
  // No longer playing: the idle and setup timeouts apply again.
  boost::asio::post(transport_.get_executor(),
                    [self = shared_from_this()] { self->arm_watchdog(); });
  // A batch still queued here was never handed to the socket: drop it. A
  // batch being written still reads the viewer's buffers: keep the viewer
  // until the write completes.
  media_pending_ = false;
  if (media_inflight_) {
    retired_viewer_ = std::move(viewer_);
  } else {
    viewer_.reset();
  }
}

void RtmpConnection::notify_done() {
  if (!done_request_) return;
  access_.notify(transport_.get_executor(), std::move(*done_request_));
  done_request_.reset();
}

void RtmpConnection::close_now(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  notify_done();
  watchdog_.cancel();
  flush_done_.cancel();
  transport_.close();
  if (publication_) {
    logger().info("[{}] publisher disconnected: {} ({} malformed frames dropped)", context_, reason,
                  frames_dropped_);
    publication_->end();
    publication_.reset();
  } else if (viewer_) {
    logger().info("[{}] viewer closed: {} ({} bytes sent, {} skips)", context_, reason,
                  viewer_->bytes_sent(), viewer_->skips());
  } else {
    logger().info("[{}] closed: {}", context_, reason);
  }
  // Safe now: the socket is closed, so no outstanding write reads the
  // viewer's buffers any more.
  viewer_.reset();
  retired_viewer_.reset();
}

void RtmpConnection::arm_watchdog() {
  // Watches the handshake deadline, then the idle timeout of a connection
  // that is not playing (publishers, and clients that never publish or
  // play), and the setup deadline of one that neither publishes nor plays.
  // Playing viewers are watched by the hub (lag, stalled writes), so they
  // cost no timer.
  if (closed_ || viewer_) return;
  const int64_t now = steady_now_ms();
  const bool handshaking = session_.state() == rtmp::ServerSession::State::kHandshake;
  int64_t deadline = handshaking ? started_ms_ + config_.handshake_timeout_ms
                                 : last_read_ms_ + config_.publisher_idle_timeout_ms;
  if (!handshaking && !publication_ && config_.setup_timeout_ms > 0) {
    deadline = std::min<int64_t>(deadline, unengaged_since_ms_ + config_.setup_timeout_ms);
  }
  watchdog_.expires_after(std::chrono::milliseconds(std::clamp<int64_t>(deadline - now, 1, 1000)));
  watchdog_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || self->viewer_) return;
    const int64_t at = steady_now_ms();
    std::optional<std::string> reason;
    const uint32_t setup_timeout_ms = self->config_.setup_timeout_ms;
    if (self->session_.state() == rtmp::ServerSession::State::kHandshake) {
      if (at - self->started_ms_ >= self->config_.handshake_timeout_ms)
        reason = "handshake timeout";
    } else if (at - self->last_read_ms_ >= self->config_.publisher_idle_timeout_ms) {
      reason = self->publication_ ? "publisher idle timeout" : "idle timeout (no publish or play)";
    } else if (!self->publication_ && setup_timeout_ms > 0 &&
               at - self->unengaged_since_ms_ >= setup_timeout_ms) {
      reason = fmt::format("setup timeout (no publish or play within {} ms)", setup_timeout_ms);
    }
    if (reason) {
      closed_counter("timeout").inc();
      self->close_reason_ = *reason;
      self->transport_.close();
      return;
    }
    self->arm_watchdog();
  });
}

}  // namespace cascade::servers
