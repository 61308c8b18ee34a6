#include "loadgen/rtmp_play_session.h"

#include "core/byte_reader.h"
#include "media/amf0.h"
#include "protocols/rtmp/chunk_writer.h"
#include "protocols/rtmp/command.h"
#include "protocols/rtmp/control.h"
#include "protocols/rtmp/message.h"

namespace cascade::loadgen {
namespace {

using amf0::Value;
using rtmp::MessageType;

// We never send Set Chunk Size, so everything we send is chunked at 128.
constexpr uint32_t kOutChunkSize = rtmp::kDefaultChunkSize;
// ffmpeg's choice for play (RTMP_SOURCE_CHANNEL); any csid > 2 would do.
constexpr uint32_t kCsidPlay = 8;
constexpr double kConnectTransaction = 1;
constexpr double kCreateStreamTransaction = 2;

std::string info_string(const std::vector<Value>& args, size_t index, std::string_view key) {
  if (args.size() <= index) return {};
  const Value* v = args[index].get(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

RtmpPlayTarget::RtmpPlayTarget(std::string app, std::string stream_name, std::string tc_url,
                               bool use_digest)
    : stream(std::move(stream_name)), digest(use_digest) {
  // RTMP spec 7.2.1.1: the connect command object.
  Value object = Value::object();
  object.set("app", Value::string(app));
  object.set("flashVer", Value::string("LNX 9,0,124,2"));
  object.set("tcUrl", Value::string(tc_url));
  object.set("fpad", Value::boolean(false));
  object.set("capabilities", Value::number(15));
  object.set("audioCodecs", Value::number(4071));
  object.set("videoCodecs", Value::number(252));
  object.set("videoFunction", Value::number(1));
  object.set("objectEncoding", Value::number(0));
  rtmp::append_amf0_message(connect, kOutChunkSize, MessageType::kCommandAmf0, rtmp::kCsidCommand,
                            0,
                            {Value::string("connect"), Value::number(kConnectTransaction), object});
  // RTMP spec 7.2.1.3: createStream.
  rtmp::append_amf0_message(
      create_stream, kOutChunkSize, MessageType::kCommandAmf0, rtmp::kCsidCommand, 0,
      {Value::string("createStream"), Value::number(kCreateStreamTransaction), Value::null()});
  // RTMP spec 7.2.2.1: play, transaction 0, start -2 (live, else recorded).
  play_payload = amf0::encode_all({Value::string("play"), Value::number(0), Value::null(),
                                   Value::string(stream), Value::number(-2)});
}

RtmpPlaySession::RtmpPlaySession(const RtmpPlayTarget& target, MediaTracker& tracker)
    : target_(target), tracker_(tracker) {}

void RtmpPlaySession::start(std::vector<uint8_t>& out) {
  handshake_ = std::make_unique<rtmp::ClientHandshake>(
      target_.digest ? rtmp::ClientHandshake::Mode::kDigest : rtmp::ClientHandshake::Mode::kSimple);
  handshake_->start(out);
}

void RtmpPlaySession::fail_or_corrupt(std::string reason) {
  finish(playing_ ? Outcome::kCorrupt : Outcome::kFailed, std::move(reason));
}

size_t RtmpPlaySession::feed(std::span<const uint8_t> in, int64_t now_us,
                             std::vector<uint8_t>& out) {
  size_t pos = 0;
  if (handshake_) {
    auto consumed = handshake_->feed(in, out);
    if (!consumed) {
      finish(Outcome::kFailed, "rtmp handshake: " + consumed.error().message);
      return in.size();
    }
    pos = *consumed;
    if (!handshake_->done()) return pos;
    handshake_.reset();
    out.insert(out.end(), target_.connect.begin(), target_.connect.end());
    step_ = Step::kConnect;
  }
  out_ = &out;
  now_us_ = now_us;
  auto consumed = scanner_.feed(in.subspan(pos), *this);
  out_ = nullptr;
  if (!consumed) {
    fail_or_corrupt("rtmp chunk stream: " + consumed.error().message);
    return in.size();
  }
  // RTMP spec 5.4.3: acknowledge every window of received bytes.
  while (auto sequence = scanner_.take_acknowledgement()) {
    rtmp::append_acknowledgement(out, kOutChunkSize, *sequence);
  }
  return pos + *consumed;
}

bool RtmpPlaySession::on_message(const RtmpMessage& message) {
  switch (static_cast<MessageType>(message.type_id)) {
    case MessageType::kVideo:
      if (auto status = tracker_.on_video(message.timestamp, message.head, message.length, now_us_);
          !status) {
        fail_or_corrupt(status.error().message);
        return false;
      }
      return true;
    case MessageType::kAudio:
      if (auto status = tracker_.on_audio(message.timestamp, message.head, message.length, now_us_);
          !status) {
        fail_or_corrupt(status.error().message);
        return false;
      }
      return true;
    case MessageType::kUserControl: {
      // RTMP spec 7.1.7: event type UI16, then event data.
      ByteReader r(message.head);
      auto event = static_cast<rtmp::UserControlEvent>(r.u16be());
      uint32_t value = r.u32be();
      if (!r.ok()) return true;
      if (event == rtmp::UserControlEvent::kPingRequest) {
        rtmp::append_user_control(*out_, kOutChunkSize, rtmp::UserControlEvent::kPingResponse,
                                  value);
      } else if (event == rtmp::UserControlEvent::kStreamEof) {
        stream_ended_ = true;
      }
      return true;
    }
    case MessageType::kCommandAmf0:
      return !message.complete() || on_command(message.head);
    case MessageType::kCommandAmf3:
      // RTMP spec 7.1.1: AMF3 commands start with a format byte, then AMF0.
      return !message.complete() || message.head.empty() || on_command(message.head.subspan(1));
    default:
      // Protocol control is applied by the scanner; data messages and the
      // rest are not needed to play.
      return true;
  }
}

bool RtmpPlaySession::on_command(std::span<const uint8_t> amf0) {
  auto decoded = amf0::decode_all(amf0);
  if (!decoded) {
    fail_or_corrupt("rtmp command: " + decoded.error().message);
    return false;
  }
  const std::vector<Value>& args = *decoded;
  if (args.empty() || !args[0].is_string()) return true;
  const std::string& name = args[0].as_string();
  const double transaction = args.size() > 1 ? args[1].as_number() : 0;

  if (name == "_result") {
    if (step_ == Step::kConnect && transaction == kConnectTransaction) {
      out_->insert(out_->end(), target_.create_stream.begin(), target_.create_stream.end());
      step_ = Step::kCreateStream;
    } else if (step_ == Step::kCreateStream && transaction == kCreateStreamTransaction) {
      double stream_id = args.size() > 3 ? args[3].as_number() : 0;
      if (!(stream_id >= 0 && stream_id < 4294967296.0)) {
        finish(Outcome::kFailed, "rtmp createStream returned a bad stream id");
        return false;
      }
      rtmp::MessageHeader header{static_cast<uint8_t>(MessageType::kCommandAmf0), 0,
                                 static_cast<uint32_t>(stream_id), kCsidPlay};
      rtmp::append_chunked(header, target_.play_payload, kOutChunkSize, *out_);
      step_ = Step::kPlay;
    }
    return true;
  }
  if (name == "_error") {
    if (playing_) return true;  // not about playing; nothing we sent asks for it
    std::string code = info_string(args, 3, "code");
    finish(Outcome::kFailed, "rtmp _error " + (code.empty() ? std::string("(no code)") : code));
    return false;
  }
  if (name == "onStatus") {
    // RTMP spec 7.2.2: onStatus, 0, null, info object {level, code, description}.
    std::string level = info_string(args, 3, "level");
    std::string code = info_string(args, 3, "code");
    if (code == "NetStream.Play.Start") {
      playing_ = true;
      step_ = Step::kPlaying;
    } else if (code == "NetStream.Play.UnpublishNotify" || code == "NetStream.Play.Stop") {
      stream_ended_ = true;
    } else if (level == "error" && !playing_) {
      finish(Outcome::kFailed, "rtmp onStatus " + code);
      return false;
    }
    return true;
  }
  return true;  // onBWDone, close, ...: nothing to do
}

}  // namespace cascade::loadgen
