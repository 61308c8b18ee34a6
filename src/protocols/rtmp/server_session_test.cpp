#include "protocols/rtmp/server_session.h"

#include <gtest/gtest.h>

#include "media/test_corpus.h"
#include "protocols/rtmp/chunk_test_util.h"
#include "protocols/rtmp/chunk_writer.h"
#include "protocols/rtmp/command.h"
#include "protocols/rtmp/control.h"

namespace cascade::rtmp {
namespace {

using amf0::Value;
using testing::Bytes;

// Drives a ServerSession like a client would: handshake, chunked commands
// in, and the server's replies parsed back into messages.
class Client {
 public:
  Client() : session_(SessionConfig{}) {}
  // Everything a test sent after the handshake seeds the session fuzzer.
  ~Client() {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(test->test_suite_name()) + "." + test->name();
    for (char& ch : name) {
      if (ch == '/') ch = '_';
    }
    media::testing::save_seed("server_session", name, sent_);
  }

  ServerSession& session() { return session_; }

  void handshake() {
    ClientHandshake hs(ClientHandshake::Mode::kDigest, [](std::span<uint8_t> b) {
      for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 13 + 1);
    });
    Bytes c0c1, c2;
    hs.start(c0c1);
    ASSERT_TRUE(session_.feed(c0c1));
    Bytes s = take_output();
    ASSERT_EQ(s.size(), 1 + 1536 * 2u);
    auto consumed = hs.feed(s, c2);
    ASSERT_TRUE(consumed) << consumed.error().message;
    ASSERT_TRUE(hs.done());
    EXPECT_TRUE(hs.digest_used());
    ASSERT_TRUE(session_.feed(c2));
    EXPECT_EQ(session_.state(), ServerSession::State::kConnecting);
    EXPECT_TRUE(session_.handshake_digest_used());
  }

  Status send(MessageType type, std::initializer_list<Value> values, uint32_t msid = 0) {
    Bytes wire;
    append_amf0_message(wire, 128, type, 3, msid, values);
    return feed(wire);
  }

  Status send_raw(uint8_t type, const Bytes& payload, uint32_t timestamp = 0, uint32_t msid = 1) {
    Bytes wire;
    append_chunked({type, timestamp, msid, 6}, payload, 128, wire);
    return feed(wire);
  }

  Status feed(const Bytes& wire) {
    if (session_.state() != ServerSession::State::kHandshake) {
      sent_.insert(sent_.end(), wire.begin(), wire.end());
    }
    auto consumed = session_.feed(wire);
    if (!consumed) return consumed.error();
    EXPECT_EQ(*consumed, wire.size());
    return {};
  }

  void connect(const std::string& app = "live") {
    handshake();
    Value object = Value::object();
    object.set("app", Value::string(app));
    object.set("tcUrl", Value::string("rtmp://127.0.0.1/" + app));
    ASSERT_TRUE(send(MessageType::kCommandAmf0,
                     {Value::string("connect"), Value::number(1), object}));
    ASSERT_EQ(session_.events().size(), 1u);
    session_.events().clear();
    session_.accept_connect();
    replies();
  }

  Bytes take_output() {
    Bytes out = std::move(session_.output());
    session_.output().clear();
    return out;
  }

  // The server's output so far, as messages.
  std::vector<Message> replies() {
    Bytes out = take_output();
    std::vector<Message> messages;
    auto consumed = reader_.feed(out, messages);
    EXPECT_TRUE(consumed);
    return messages;
  }

 private:
  ServerSession session_;
  ChunkReader reader_;
  Bytes sent_;
};

std::vector<Value> decode(const Message& m) {
  auto values = amf0::decode_all(m.payload.span());
  EXPECT_TRUE(values) << values.error().message;
  return values ? *values : std::vector<Value>{};
}

std::string status_code(const Message& m) {
  auto values = decode(m);
  for (const Value& v : values) {
    if (const Value* code = v.get("code")) return code->as_string();
  }
  return {};
}

TEST(ServerSession, ConnectRepliesInSpecOrder) {
  Client c;
  c.handshake();
  Value object = Value::object();
  object.set("app", Value::string("live?token=abc"));
  object.set("tcUrl", Value::string("rtmp://h/live?token=abc"));
  object.set("flashVer", Value::string("FMLE/3.0"));
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0, {Value::string("connect"), Value::number(1), object}));
  ASSERT_EQ(c.session().events().size(), 1u);
  auto& request = std::get<ConnectRequest>(c.session().events()[0]);
  EXPECT_EQ(request.app, "live");
  EXPECT_EQ(request.query, "token=abc");
  EXPECT_EQ(request.flash_ver, "FMLE/3.0");
  c.session().accept_connect();
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].type(), MessageType::kWindowAckSize);
  EXPECT_EQ(replies[1].type(), MessageType::kSetPeerBandwidth);
  EXPECT_EQ(replies[2].type(), MessageType::kSetChunkSize);
  EXPECT_EQ(replies[3].type(), MessageType::kCommandAmf0);
  auto result = decode(replies[3]);
  ASSERT_GE(result.size(), 4u);
  EXPECT_EQ(result[0].as_string(), "_result");
  EXPECT_EQ(result[1].as_number(), 1);
  EXPECT_EQ(result[3].get("code")->as_string(), "NetConnection.Connect.Success");
  EXPECT_EQ(c.session().app(), "live");
}

TEST(ServerSession, PublishFlowAndMedia) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("releaseStream"), Value::number(2), Value::null(),
                      Value::string("key")}));
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("createStream"), Value::number(3), Value::null()}));
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 2u);
  auto created = decode(replies[1]);
  EXPECT_EQ(created[0].as_string(), "_result");
  EXPECT_EQ(created[3].as_number(), kPlayStreamId);

  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("publish"), Value::number(4), Value::null(),
                      Value::string("key?secret=1"), Value::string("live")},
                     1));
  ASSERT_EQ(c.session().events().size(), 1u);
  auto& publish = std::get<PublishRequest>(c.session().events()[0]);
  EXPECT_EQ(publish.stream, "key");
  EXPECT_EQ(publish.query, "secret=1");
  EXPECT_EQ(publish.type, "live");
  c.session().events().clear();
  c.session().accept_publish("key");
  replies = c.replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].type(), MessageType::kUserControl);
  EXPECT_EQ(status_code(replies[1]), "NetStream.Publish.Start");

  // @setDataFrame is stripped: what is kept is ("onMetaData", {...}).
  Value meta = Value::ecma_array();
  meta.set("width", Value::number(640));
  ASSERT_TRUE(c.send(MessageType::kDataAmf0,
                     {Value::string("@setDataFrame"), Value::string("onMetaData"), meta}, 1));
  ASSERT_TRUE(c.send_raw(9, {0x17, 0x00, 0, 0, 0, 1, 0x64}, 0));
  ASSERT_TRUE(c.send_raw(8, {0xAF, 0x01, 0x21}, 23));
  auto& events = c.session().events();
  ASSERT_EQ(events.size(), 3u);
  auto& data = std::get<MediaMessage>(events[0]);
  EXPECT_TRUE(data.metadata);
  auto values = decode(data.message);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].as_string(), "onMetaData");
  EXPECT_EQ(std::get<MediaMessage>(events[1]).message.type(), MessageType::kVideo);
  EXPECT_EQ(std::get<MediaMessage>(events[2]).message.timestamp, 23u);
  events.clear();

  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("FCUnpublish"), Value::number(5), Value::null(),
                      Value::string("key")}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Unpublish>(events[0]));
  EXPECT_EQ(c.session().state(), ServerSession::State::kConnected);
}

TEST(ServerSession, PlayAcceptedSendsStartSequence) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("play"), Value::number(4), Value::null(),
                      Value::string("cam1"), Value::number(-2)},
                     1));
  auto& play = std::get<PlayRequest>(c.session().events()[0]);
  EXPECT_EQ(play.stream, "cam1");
  EXPECT_EQ(play.start, -2);
  c.session().accept_play("cam1");
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0].type(), MessageType::kUserControl);
  EXPECT_EQ(status_code(replies[1]), "NetStream.Play.Reset");
  EXPECT_EQ(status_code(replies[2]), "NetStream.Play.Start");
  EXPECT_EQ(decode(replies[3])[0].as_string(), "|RtmpSampleAccess");
  EXPECT_EQ(status_code(replies[4]), "NetStream.Data.Start");
  for (const Message& m : replies) {
    if (m.type() != MessageType::kUserControl) {
      EXPECT_EQ(m.stream_id, kPlayStreamId);
    }
  }
  EXPECT_FALSE(c.session().close_reason());
}

TEST(ServerSession, PlayRefusedClosesAfterStatus) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("play"), Value::number(4), Value::null(),
                      Value::string("missing")},
                     1));
  c.session().reject_play("NetStream.Play.StreamNotFound", "live/missing is not live");
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(status_code(replies[0]), "NetStream.Play.StreamNotFound");
  ASSERT_TRUE(c.session().close_reason());
  EXPECT_NE(c.session().close_reason()->find("StreamNotFound"), std::string::npos);
}

TEST(ServerSession, RefusalCarriesTheRedirect) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("publish"), Value::number(5), Value::null(),
                      Value::string("cam1?key=x"), Value::string("live")},
                     1));
  c.session().reject_publish("NetStream.Publish.Rejected", "redirected", "rtmp://edge/live/cam1");
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(status_code(replies[0]), "NetStream.Publish.Rejected");
  const std::vector<Value> values = decode(replies[0]);
  ASSERT_GE(values.size(), 4u);
  const Value& info = values[3];
  ASSERT_NE(info.get("redirect"), nullptr);
  EXPECT_EQ(info.get("redirect")->as_string(), "rtmp://edge/live/cam1");
  const Value* ex = info.get("ex");
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ(ex->get("redirect")->as_string(), "rtmp://edge/live/cam1");
  EXPECT_EQ(ex->get("code")->as_number(), 302);
  EXPECT_TRUE(c.session().close_reason());
}

TEST(ServerSession, UnknownCommandGetsErrorAndConnectionStays) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("noSuchCommand"), Value::number(7), Value::null()}));
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 1u);
  auto error = decode(replies[0]);
  EXPECT_EQ(error[0].as_string(), "_error");
  EXPECT_EQ(error[1].as_number(), 7);
  EXPECT_EQ(status_code(replies[0]), "NetConnection.Call.Failed");
  ASSERT_EQ(c.session().notices().size(), 1u);
  EXPECT_FALSE(c.session().close_reason());
}

TEST(ServerSession, PingRequestGetsPingResponse) {
  Client c;
  c.connect();
  Bytes wire;
  append_user_control(wire, 128, UserControlEvent::kPingRequest, 0xABCD);
  ASSERT_TRUE(c.feed(wire));
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].payload.size(), 6u);
  EXPECT_EQ(replies[0].payload[1], uint8_t(UserControlEvent::kPingResponse));
  EXPECT_EQ(replies[0].payload[4], 0xAB);
}

TEST(ServerSession, AcknowledgesAfterPeerWindow) {
  Client c;
  c.connect();
  Bytes wire;
  append_window_ack_size(wire, 128, 1000);
  ASSERT_TRUE(c.feed(wire));
  ASSERT_TRUE(c.send_raw(9, Bytes(1200, 0x27)));
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type(), MessageType::kAcknowledgement);
}

TEST(ServerSession, AcknowledgesEveryWindowCrossedInOneRead) {
  Client c;
  c.connect();
  Bytes wire;
  append_window_ack_size(wire, 128, 1000);
  append_chunked({9, 0, 1, 6}, Bytes(3500, 0x27), 128, wire);
  ASSERT_TRUE(c.feed(wire));
  auto replies = c.replies();
  ASSERT_EQ(replies.size(), 3u);
  for (const Message& m : replies) EXPECT_EQ(m.type(), MessageType::kAcknowledgement);
  EXPECT_EQ(replies[2].payload[2], uint8_t(3000 >> 8));
}

TEST(ServerSession, Amf3CommandIsDecoded) {
  Client c;
  c.handshake();
  Value object = Value::object();
  object.set("app", Value::string("live"));
  Bytes payload = {0x00};
  Bytes rest = amf0::encode_all({Value::string("connect"), Value::number(1), object});
  payload.insert(payload.end(), rest.begin(), rest.end());
  ASSERT_TRUE(c.send_raw(17, payload, 0, 0));
  ASSERT_EQ(c.session().events().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ConnectRequest>(c.session().events()[0]));
}

TEST(ServerSession, AggregateMessageIsSplit) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send(MessageType::kCommandAmf0,
                     {Value::string("publish"), Value::number(4), Value::null(),
                      Value::string("s")},
                     1));
  c.session().events().clear();
  c.session().accept_publish("s");
  Bytes agg;
  auto tag = [&agg](uint8_t type, uint32_t ts, const Bytes& body) {
    agg.push_back(type);
    testing::put24(agg, uint32_t(body.size()));
    testing::put24(agg, ts);
    agg.push_back(0);
    testing::put24(agg, 0);
    agg.insert(agg.end(), body.begin(), body.end());
    testing::put32(agg, uint32_t(11 + body.size()));
  };
  tag(9, 500, {0x17, 1, 0, 0, 0});
  tag(8, 520, {0xAF, 1});
  ASSERT_TRUE(c.send_raw(22, agg, 1000));
  auto& events = c.session().events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<MediaMessage>(events[0]).message.timestamp, 1000u);
  EXPECT_EQ(std::get<MediaMessage>(events[1]).message.timestamp, 1020u);
  EXPECT_EQ(std::get<MediaMessage>(events[1]).message.payload.size(), 2u);
}

struct Violation {
  const char* name;
  std::function<Bytes()> wire;
  int stage;  // 0: nothing before, 1: handshake done, 2: connected
  const char* error_part;
};

class ServerSessionViolations : public ::testing::TestWithParam<Violation> {};

TEST_P(ServerSessionViolations, FeedFailsWithReason) {
  Client c;
  if (GetParam().stage == 1) c.handshake();
  if (GetParam().stage == 2) c.connect();
  auto consumed = c.session().feed(GetParam().wire());
  ASSERT_FALSE(consumed);
  EXPECT_NE(consumed.error().message.find(GetParam().error_part), std::string::npos)
      << consumed.error().message;
}

Bytes command_wire(std::initializer_list<Value> values) {
  Bytes wire;
  append_amf0_message(wire, 128, MessageType::kCommandAmf0, 3, 0, values);
  return wire;
}

INSTANTIATE_TEST_SUITE_P(
    Rtmp, ServerSessionViolations,
    ::testing::Values(
        Violation{"garbage_handshake", [] { return Bytes{'G', 'E', 'T', ' ', '/'}; }, 0,
                  "unsupported RTMP version"},
        Violation{"truncated_amf",
                  [] {
                    Bytes body = amf0::encode_all({Value::string("play"), Value::number(1)});
                    body.resize(body.size() - 3);
                    Bytes wire;
                    append_chunked({20, 0, 0, 3}, body, 128, wire);
                    return wire;
                  },
                  2, "bad command message"},
        Violation{"command_without_name",
                  [] { return command_wire({Value::number(1), Value::null()}); }, 2,
                  "without a name"},
        Violation{"second_connect",
                  [] {
                    Value o = Value::object();
                    o.set("app", Value::string("x"));
                    return command_wire({Value::string("connect"), Value::number(1), o});
                  },
                  2, "second connect"},
        Violation{"connect_without_app",
                  [] {
                    return command_wire(
                        {Value::string("connect"), Value::number(1), Value::object()});
                  },
                  1, "without an app"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ServerSession, CommandBeforeConnectFails) {
  Client c;
  c.handshake();
  auto consumed = c.session().feed(command_wire(
      {Value::string("createStream"), Value::number(2), Value::null()}));
  ASSERT_FALSE(consumed);
  EXPECT_NE(consumed.error().message.find("before connect"), std::string::npos);
}

TEST(ServerSession, MediaBeforePublishIsIgnored) {
  Client c;
  c.connect();
  ASSERT_TRUE(c.send_raw(9, {0x17, 1, 0, 0, 0}));
  EXPECT_TRUE(c.session().events().empty());
}

}  // namespace
}  // namespace cascade::rtmp
