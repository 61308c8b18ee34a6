#include "protocols/rtmp/server_session.h"

#include "core/byte_reader.h"
#include "protocols/rtmp/command.h"
#include "protocols/rtmp/chunk_writer.h"
#include "protocols/rtmp/control.h"

namespace cascade::rtmp {
namespace {

using amf0::Value;

const Value* arg(const std::vector<Value>& args, size_t i) {
  return i < args.size() ? &args[i] : nullptr;
}

std::string string_arg(const std::vector<Value>& args, size_t i) {
  const Value* v = arg(args, i);
  return v ? v->as_string() : std::string();
}

std::string string_property(const Value* object, std::string_view key) {
  if (!object) return {};
  const Value* v = object->get(key);
  return v ? v->as_string() : std::string();
}

// Length of the AMF0 string value at the start of `payload`, or 0.
size_t leading_string_size(std::span<const uint8_t> payload, std::string_view expected) {
  ByteReader r(payload);
  if (r.u8() != static_cast<uint8_t>(amf0::Marker::kString)) return 0;
  uint16_t n = r.u16be();
  if (r.string(n) != expected || !r.ok()) return 0;
  return r.position();
}

// status_info with the redirect fields (see reject_connect in the header).
Value refusal_info(std::string_view code, std::string_view description, std::string_view redirect) {
  Value info = status_info("error", code, description);
  if (!redirect.empty()) {
    Value ex = Value::object();
    ex.set("code", Value::number(302));
    ex.set("redirect", Value::string(std::string(redirect)));
    info.set("ex", std::move(ex));
    info.set("redirect", Value::string(std::string(redirect)));
  }
  return info;
}

}  // namespace

ServerSession::ServerSession(SessionConfig config)
    : config_(config), reader_(config.limits) {}

Result<size_t> ServerSession::feed(std::span<const uint8_t> bytes) {
  size_t consumed = 0;
  if (state_ == State::kHandshake) {
    auto handshaken = handshake_->feed(bytes, output_);
    if (!handshaken) return handshaken.error();
    consumed = *handshaken;
    if (!handshake_->done()) return consumed;
    digest_used_ = handshake_->digest_used();
    handshake_.reset();
    state_ = State::kConnecting;
  }
  auto parsed = reader_.feed(bytes.subspan(consumed), messages_);
  // Messages completed before a chunk-level error are still handled: a reply
  // the peer earned should go out with the close.
  for (const Message& message : messages_) {
    if (close_reason_) break;
    if (auto status = handle_message(message); !status) {
      messages_.clear();
      return status.error();
    }
  }
  messages_.clear();
  if (!parsed) return parsed.error();
  consumed += *parsed;
  maybe_acknowledge();
  return consumed;
}

void ServerSession::maybe_acknowledge() {
  // RTMP spec 5.4.3: acknowledge after each window's worth of bytes. One read
  // may cross several windows; each gets its Acknowledgement.
  if (peer_window_ack_size_ == 0) return;
  const uint64_t received = reader_.bytes_consumed();
  while (received - last_ack_bytes_ >= peer_window_ack_size_) {
    last_ack_bytes_ += peer_window_ack_size_;
    append_acknowledgement(output_, out_chunk_size_, static_cast<uint32_t>(last_ack_bytes_));
  }
}

Status ServerSession::handle_message(const Message& message) {
  switch (message.type()) {
    case MessageType::kSetChunkSize:
    case MessageType::kAbort:
    case MessageType::kAcknowledgement:
    case MessageType::kSetPeerBandwidth:
      return {};
    case MessageType::kWindowAckSize: {
      ByteReader r(message.payload.span());
      uint32_t window = r.u32be();
      if (!r.ok()) return make_error("truncated Window Acknowledgement Size message");
      peer_window_ack_size_ = window;
      return {};
    }
    case MessageType::kUserControl:
      handle_user_control(message);
      return {};
    case MessageType::kAudio:
    case MessageType::kVideo:
      if (state_ == State::kPublishing) events_.push_back(MediaMessage{message, false});
      return {};
    case MessageType::kDataAmf0:
      return handle_data(message, message.payload.span());
    case MessageType::kDataAmf3:
      // AMF3 data messages start with a format byte; the body that follows
      // is AMF0 unless it switches to AMF3 with the avmplus marker.
      if (message.payload.empty()) return {};
      return handle_data(message, message.payload.span().subspan(1));
    case MessageType::kCommandAmf0:
      return handle_command(message.payload.span());
    case MessageType::kCommandAmf3:
      if (message.payload.empty()) return make_error("empty AMF3 command message");
      return handle_command(message.payload.span().subspan(1));
    case MessageType::kAggregate:
      return handle_aggregate(message);
    default:
      // Shared objects and unknown types are not used by this server.
      return {};
  }
}

void ServerSession::handle_user_control(const Message& message) {
  ByteReader r(message.payload.span());
  auto event = static_cast<UserControlEvent>(r.u16be());
  uint32_t value = r.u32be();
  if (!r.ok()) return;
  if (event == UserControlEvent::kPingRequest) {
    append_user_control(output_, config_.out_chunk_size, UserControlEvent::kPingResponse, value);
  }
}

Status ServerSession::handle_data(const Message& message, std::span<const uint8_t> payload) {
  if (state_ != State::kPublishing) return {};
  // FLV spec / RTMP practice: "@setDataFrame" wraps data to be stored with
  // the stream ("onMetaData", {...}); store what follows it.
  size_t skip = leading_string_size(payload, "@setDataFrame");
  std::span<const uint8_t> body = payload.subspan(skip);
  bool metadata = leading_string_size(body, "onMetaData") > 0;
  Message normalized = message;
  normalized.type_id = static_cast<uint8_t>(MessageType::kDataAmf0);
  size_t offset = static_cast<size_t>(body.data() - message.payload.data());
  normalized.payload = message.payload.slice(offset, body.size());
  events_.push_back(MediaMessage{std::move(normalized), metadata});
  return {};
}

Status ServerSession::handle_aggregate(const Message& message) {
  if (state_ != State::kPublishing) return {};
  // An aggregate message is a run of FLV tags (tag header, body, back
  // pointer); sub-message timestamps are relative to the first one's.
  ByteReader r(message.payload.span());
  bool first = true;
  uint32_t base = 0;
  while (!r.empty()) {
    uint8_t type = r.u8();
    uint32_t size = r.u24be();
    uint32_t timestamp = r.u24be();
    timestamp |= uint32_t(r.u8()) << 24;
    r.skip(3);  // stream id
    size_t offset = r.position();
    r.skip(size);
    r.skip(4);  // back pointer
    if (!r.ok()) return make_error("truncated aggregate message");
    if (first) {
      base = timestamp;
      first = false;
    }
    Message sub{type, message.timestamp + (timestamp - base), message.stream_id, message.csid,
                message.payload.slice(offset, size)};
    if (type == static_cast<uint8_t>(MessageType::kAudio) ||
        type == static_cast<uint8_t>(MessageType::kVideo)) {
      events_.push_back(MediaMessage{std::move(sub), false});
    } else if (type == static_cast<uint8_t>(MessageType::kDataAmf0)) {
      if (auto status = handle_data(sub, sub.payload.span()); !status) return status;
    }
  }
  return {};
}

Status ServerSession::handle_command(std::span<const uint8_t> payload) {
  auto decoded = amf0::decode_all(payload);
  if (!decoded) return make_error("bad command message: {}", decoded.error().message);
  const std::vector<Value>& args = *decoded;
  if (args.empty() || !args[0].is_string()) return make_error("command message without a name");
  const std::string& name = args[0].as_string();
  double transaction = args.size() > 1 ? args[1].as_number() : 0;

  if (name == "connect") {
    if (state_ != State::kConnecting) return make_error("second connect on one connection");
    const Value* object = arg(args, 2);
    auto [app, app_query] = split_query(string_property(object, "app"));
    std::string tc_url = string_property(object, "tcUrl");
    auto [tc_base, tc_query] = split_query(tc_url);
    if (app.empty()) return make_error("connect without an app name");
    while (!app.empty() && app.back() == '/') app.pop_back();
    if (const Value* encoding = object ? object->get("objectEncoding") : nullptr) {
      object_encoding_ = encoding->as_number();
    }
    app_ = app;
    connect_transaction_ = transaction;
    state_ = State::kConnected;
    events_.push_back(ConnectRequest{app, app_query.empty() ? tc_query : app_query, tc_url,
                                     string_property(object, "flashVer")});
    return {};
  }
  if (state_ == State::kConnecting) return make_error("command '{}' before connect", name);

  if (name == "createStream") {
    // One message stream per connection serves both publish and play; see kPlayStreamId.
    send_result(transaction, {Value::null(), Value::number(kPlayStreamId)});
  } else if (name == "releaseStream" || name == "FCPublish" || name == "FCSubscribe" ||
             name == "_checkbw") {
    send_result(transaction, {Value::null(), Value::undefined()});
  } else if (name == "publish") {
    if (state_ != State::kConnected) return make_error("publish in state {}", int(state_));
    auto [stream, query] = split_query(string_arg(args, 3));
    std::string type = string_arg(args, 4);
    publish_transaction_ = transaction;
    state_ = State::kPublishing;
    events_.push_back(PublishRequest{stream, query, type.empty() ? "live" : type});
  } else if (name == "play" || name == "play2") {
    if (state_ != State::kConnected) return make_error("play in state {}", int(state_));
    std::string target = string_arg(args, 3);
    if (name == "play2") target = string_property(arg(args, 3), "streamName");
    auto [stream, query] = split_query(target);
    double start = args.size() > 4 && args[4].is_number() ? args[4].as_number() : -2;
    play_transaction_ = transaction;
    state_ = State::kPlaying;
    events_.push_back(PlayRequest{stream, query, start});
  } else if (name == "pause") {
    if (state_ != State::kPlaying) return {};
    const Value* flag = arg(args, 3);
    bool paused = flag && flag->as_bool();
    events_.push_back(Pause{paused});
    send_status("status", paused ? "NetStream.Pause.Notify" : "NetStream.Unpause.Notify",
                paused ? "Paused live stream." : "Unpaused live stream.");
  } else if (name == "getStreamLength") {
    send_result(transaction, {Value::null(), Value::number(0)});
  } else if (name == "FCUnpublish") {
    send_result(transaction, {Value::null(), Value::undefined()});
    if (state_ == State::kPublishing) {
      events_.push_back(Unpublish{});
      send_status("status", "NetStream.Unpublish.Success", "Stream unpublished.");
      state_ = State::kConnected;
    }
  } else if (name == "deleteStream" || name == "closeStream") {
    if (state_ == State::kPublishing) {
      events_.push_back(Unpublish{});
      state_ = State::kConnected;
    } else if (state_ == State::kPlaying) {
      events_.push_back(StopPlay{});
      state_ = State::kConnected;
    }
  } else if (name == "receiveAudio" || name == "receiveVideo" || name == "_result" ||
             name == "_error" || name == "onBWDone" || name == "setBufferLength") {
    // Nothing to answer (RTMP spec 7.2.2.2/7.2.2.3 have no replies).
  } else {
    // RTMP spec 7.2.1.1: an unknown call gets an _error; the connection stays.
    send_error(transaction, "NetConnection.Call.Failed", "unknown command '" + name + "'");
    notices_.push_back(fmt::format("unknown command '{}' answered with _error", name));
  }
  return {};
}

void ServerSession::send_result(double transaction, std::initializer_list<Value> values) {
  std::vector<Value> all{Value::string("_result"), Value::number(transaction)};
  all.insert(all.end(), values.begin(), values.end());
  std::vector<uint8_t> payload = amf0::encode_all(std::span<const Value>(all));
  append_chunked({static_cast<uint8_t>(MessageType::kCommandAmf0), 0, 0, kCsidCommand}, payload,
                 out_chunk_size_, output_);
}

void ServerSession::send_error(double transaction, std::string_view code,
                               std::string_view description, std::string_view redirect) {
  append_amf0_message(output_, out_chunk_size_, MessageType::kCommandAmf0, kCsidCommand, 0,
                      {Value::string("_error"), Value::number(transaction), Value::null(),
                       refusal_info(code, description, redirect)});
}

void ServerSession::send_status(std::string_view level, std::string_view code,
                                std::string_view description, std::string_view redirect) {
  Value info = level == "error" ? refusal_info(code, description, redirect)
                                : status_info(level, code, description);
  append_amf0_message(output_, out_chunk_size_, MessageType::kCommandAmf0, kCsidStreamStatus,
                      kPlayStreamId,
                      {Value::string("onStatus"), Value::number(0), Value::null(), info});
}

void ServerSession::close_after_output(std::string reason) {
  if (!close_reason_) close_reason_ = std::move(reason);
}

void ServerSession::accept_connect() {
  // RTMP spec 7.2.1.1: Window Acknowledgement Size, Set Peer Bandwidth, then
  // the _result; our Set Chunk Size goes first so everything after it (all
  // packaged media included) uses the configured chunk size.
  append_window_ack_size(output_, out_chunk_size_, config_.window_ack_size);
  append_set_peer_bandwidth(output_, out_chunk_size_, config_.peer_bandwidth, 2);
  append_set_chunk_size(output_, out_chunk_size_, config_.out_chunk_size);
  out_chunk_size_ = config_.out_chunk_size;
  Value properties = Value::object();
  properties.set("fmsVer", Value::string("FMS/3,5,7,7009"));
  properties.set("capabilities", Value::number(31));
  properties.set("mode", Value::number(1));
  Value info = status_info("status", "NetConnection.Connect.Success", "Connection succeeded.");
  info.set("objectEncoding", Value::number(0));
  send_result(connect_transaction_, {properties, info});
}

void ServerSession::reject_connect(std::string_view description, std::string_view redirect) {
  send_error(connect_transaction_, "NetConnection.Connect.Rejected", description, redirect);
  close_after_output(fmt::format("connect rejected: {}", description));
}

void ServerSession::revoke_connect(std::string_view description, std::string_view redirect) {
  // NetConnection status goes on message stream 0 (RTMP spec 7.2.1.1).
  append_amf0_message(output_, out_chunk_size_, MessageType::kCommandAmf0, kCsidCommand, 0,
                      {Value::string("onStatus"), Value::number(0), Value::null(),
                       refusal_info("NetConnection.Connect.Rejected", description, redirect)});
  close_after_output(fmt::format("connect rejected: {}", description));
}

void ServerSession::accept_publish(std::string_view stream) {
  append_user_control(output_, out_chunk_size_, UserControlEvent::kStreamBegin, kPlayStreamId);
  send_status("status", "NetStream.Publish.Start", fmt::format("{} is now published.", stream));
}

void ServerSession::reject_publish(std::string_view code, std::string_view description,
                                   std::string_view redirect) {
  send_status("error", code, description, redirect);
  state_ = State::kConnected;
  close_after_output(fmt::format("publish refused ({}): {}", code, description));
}

void ServerSession::accept_play(std::string_view stream) {
  append_user_control(output_, out_chunk_size_, UserControlEvent::kStreamBegin, kPlayStreamId);
  send_status("status", "NetStream.Play.Reset", fmt::format("Playing and resetting {}.", stream));
  send_status("status", "NetStream.Play.Start", fmt::format("Started playing {}.", stream));
  append_amf0_message(output_, out_chunk_size_, MessageType::kDataAmf0, kCsidStreamStatus,
                      kPlayStreamId,
                      {Value::string("|RtmpSampleAccess"), Value::boolean(true),
                       Value::boolean(true)});
  append_amf0_message(output_, out_chunk_size_, MessageType::kDataAmf0, kCsidStreamStatus,
                      kPlayStreamId,
                      {Value::string("onStatus"),
                       status_info("status", "NetStream.Data.Start", "Started playing.")});
}

void ServerSession::reject_play(std::string_view code, std::string_view description,
                                std::string_view redirect) {
  send_status("error", code, description, redirect);
  state_ = State::kConnected;
  close_after_output(fmt::format("play refused ({}): {}", code, description));
}

void ServerSession::notify_play_ended(std::string_view stream) {
  send_status("status", "NetStream.Play.UnpublishNotify",
              fmt::format("{} is now unpublished.", stream));
  append_user_control(output_, out_chunk_size_, UserControlEvent::kStreamEof, kPlayStreamId);
  close_after_output("stream ended");
}

}  // namespace cascade::rtmp
