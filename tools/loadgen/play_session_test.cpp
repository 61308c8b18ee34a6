// RtmpPlaySession against the server's own sans-I/O rtmp::ServerSession, and
// FlvPlaySession against canned HTTP responses.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "loadgen/flv_play_session.h"
#include "loadgen/rtmp_play_session.h"
#include "media/flv.h"
#include "protocols/rtmp/chunk_writer.h"
#include "protocols/rtmp/control.h"
#include "protocols/rtmp/server_session.h"

namespace cascade::loadgen {
namespace {

using Bytes = std::vector<uint8_t>;

const Bytes kAvcConfig = {0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f};
const Bytes kAvcKey = {0x17, 0x01, 0, 0, 0, 0, 0, 0, 5, 0x65};
const Bytes kAvcInter = {0x27, 0x01, 0, 0, 0, 0, 0, 0, 5, 0x41};
const Bytes kAacRaw = {0xAF, 0x01, 0x21, 0x1A};

// Moves bytes between a client session and a ServerSession until both are quiet.
class Loop {
 public:
  explicit Loop(bool accept_play) : server_(rtmp::SessionConfig{}), accept_play_(accept_play) {}

  void run(PlaySession& client, int64_t now_us = 0) {
    for (int i = 0; i < 20 && !to_server_.empty(); ++i) {
      auto consumed = server_.feed(to_server_);
      ASSERT_TRUE(consumed) << consumed.error().message;
      to_server_.erase(to_server_.begin(), to_server_.begin() + *consumed);
      for (auto& event : server_.events()) {
        if (std::holds_alternative<rtmp::ConnectRequest>(event)) server_.accept_connect();
        if (auto* play = std::get_if<rtmp::PlayRequest>(&event)) {
          stream_ = play->stream;
          if (accept_play_) {
            server_.accept_play(play->stream);
          } else {
            server_.reject_play("NetStream.Play.StreamNotFound", "not live");
          }
        }
      }
      server_.events().clear();
      to_client(client, server_.output(), now_us);
      server_.output().clear();
    }
  }

  // Feeds the client one byte at a time, keeping its unconsumed tail.
  void to_client(PlaySession& client, const Bytes& bytes, int64_t now_us) {
    for (uint8_t b : bytes) {
      carry_.push_back(b);
      size_t consumed = client.feed(carry_, now_us, to_server_);
      carry_.erase(carry_.begin(), carry_.begin() + consumed);
      ASSERT_LE(carry_.size(), PlaySession::kMaxCarry);
    }
  }

  Bytes& to_server() { return to_server_; }
  const std::string& stream() const { return stream_; }

 private:
  rtmp::ServerSession server_;
  bool accept_play_;
  Bytes to_server_, carry_;
  std::string stream_;
};

TEST(RtmpPlaySession, PlaysAgainstServerSession) {
  for (bool digest : {false, true}) {
    SCOPED_TRACE(digest);
    RtmpPlayTarget target("live", "s?k=1", "rtmp://127.0.0.1:1935/live", digest);
    MediaTracker tracker;
    RtmpPlaySession session(target, tracker);
    Loop loop(true);
    session.start(loop.to_server());
    loop.run(session);
    ASSERT_EQ(session.outcome(), PlaySession::Outcome::kActive) << session.reason();
    EXPECT_TRUE(session.playing());
    EXPECT_EQ(loop.stream(), "s");
    // The server's chunk size is 4096 now; media as the RTMP packager sends it.
    Bytes media;
    rtmp::append_chunked({9, 0, 1, rtmp::kCsidVideo}, kAvcConfig, 4096, media);
    rtmp::append_chunked({9, 0, 1, rtmp::kCsidVideo}, kAvcKey, 4096, media);
    rtmp::append_chunked({8, 10, 1, rtmp::kCsidAudio}, kAacRaw, 4096, media);
    rtmp::append_chunked({9, 33, 1, rtmp::kCsidVideo}, kAvcInter, 4096, media);
    loop.to_client(session, media, 1000);
    EXPECT_EQ(tracker.video_frames(), 2u);
    EXPECT_EQ(tracker.audio_frames(), 1u);
    EXPECT_FALSE(tracker.first_video_not_keyframe());
    EXPECT_EQ(session.outcome(), PlaySession::Outcome::kActive);
  }
}

TEST(RtmpPlaySession, AnswersPingsAndAcknowledgesWindows) {
  RtmpPlayTarget target("live", "s", "rtmp://h/live", false);
  MediaTracker tracker;
  RtmpPlaySession session(target, tracker);
  Loop loop(true);
  session.start(loop.to_server());
  loop.run(session);
  ASSERT_TRUE(session.playing());
  loop.to_server().clear();
  Bytes bytes;
  rtmp::append_user_control(bytes, 4096, rtmp::UserControlEvent::kPingRequest, 77);
  loop.to_client(session, bytes, 0);
  // Ping Response (6 byte payload, 12 byte header on csid 2).
  ASSERT_EQ(loop.to_server().size(), 18u);
  EXPECT_EQ(loop.to_server()[7], 4);   // user control
  EXPECT_EQ(loop.to_server()[13], 7);  // event 7
  EXPECT_EQ(loop.to_server()[17], 77);
  loop.to_server().clear();
  // The server's window is 2.5 MB: an Acknowledgement (type 3) follows it.
  Bytes big(1 << 20, 0);
  Bytes media;
  for (int i = 0; i < 3; ++i) rtmp::append_chunked({18, 0, 1, 5}, big, 4096, media);
  loop.to_client(session, media, 0);
  ASSERT_EQ(loop.to_server().size(), 16u);
  EXPECT_EQ(loop.to_server()[7], 3);
  EXPECT_EQ(session.outcome(), PlaySession::Outcome::kActive);
}

TEST(RtmpPlaySession, StreamNotFoundFails) {
  RtmpPlayTarget target("live", "missing", "rtmp://h/live", false);
  MediaTracker tracker;
  RtmpPlaySession session(target, tracker);
  Loop loop(false);
  session.start(loop.to_server());
  loop.run(session);
  EXPECT_EQ(session.outcome(), PlaySession::Outcome::kFailed);
  EXPECT_EQ(session.reason(), "rtmp onStatus NetStream.Play.StreamNotFound");
  EXPECT_FALSE(session.playing());
}

TEST(RtmpPlaySession, BrokenChunkStreamAfterPlayIsCorrupt) {
  RtmpPlayTarget target("live", "s", "rtmp://h/live", false);
  MediaTracker tracker;
  RtmpPlaySession session(target, tracker);
  Loop loop(true);
  session.start(loop.to_server());
  loop.run(session);
  ASSERT_TRUE(session.playing());
  Bytes bad = {0x7F};  // type 1 header on a chunk stream never seen: csid 63
  bad.resize(8, 0);
  loop.to_client(session, bad, 0);
  EXPECT_EQ(session.outcome(), PlaySession::Outcome::kCorrupt);
}

Bytes flv_body() {
  Bytes body;
  flv::write_file_header(true, true, body);
  flv::write_tag(flv::kTagVideo, 0, kAvcConfig, body);
  flv::write_tag(flv::kTagVideo, 0, kAvcKey, body);
  flv::write_tag(flv::kTagAudio, 5, kAacRaw, body);
  flv::write_tag(flv::kTagVideo, 33, kAvcInter, body);
  return body;
}

std::string chunk(const Bytes& data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data.begin(), data.end()) + "\r\n";
}

void feed_all(FlvPlaySession& session, const std::string& wire, size_t step) {
  std::vector<uint8_t> out;
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    std::string piece = wire.substr(pos, step);
    size_t consumed = session.feed(
        std::span(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()), 0, out);
    EXPECT_EQ(consumed, piece.size());
  }
  EXPECT_TRUE(out.empty());
}

TEST(FlvPlaySession, ChunkedResponse) {
  FlvPlayTarget target("127.0.0.1:8080", "/live/s.flv", false);
  EXPECT_EQ(target.request.substr(0, 31), "GET /live/s.flv HTTP/1.1\r\nHost:");
  Bytes body = flv_body();
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Chunk boundaries that cut through tags.
  wire += chunk(Bytes(body.begin(), body.begin() + 20));
  wire += chunk(Bytes(body.begin() + 20, body.end()));
  wire += "0\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{7}, wire.size()}) {
    SCOPED_TRACE(step);
    MediaTracker tracker;
    FlvPlaySession session(target, tracker);
    std::vector<uint8_t> out;
    session.start(out);
    EXPECT_EQ(std::string(out.begin(), out.end()), target.request);
    feed_all(session, wire, step);
    EXPECT_EQ(session.outcome(), PlaySession::Outcome::kActive) << session.reason();
    EXPECT_TRUE(session.playing());
    EXPECT_TRUE(session.stream_ended());
    EXPECT_EQ(tracker.video_frames(), 2u);
    EXPECT_EQ(tracker.audio_frames(), 1u);
  }
}

TEST(FlvPlaySession, CloseDelimitedResponse) {
  FlvPlayTarget target("h", "/live/s.flv", true);
  Bytes body = flv_body();
  std::string wire =
      "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" + std::string(body.begin(), body.end());
  MediaTracker tracker;
  FlvPlaySession session(target, tracker);
  feed_all(session, wire, 3);
  EXPECT_TRUE(session.playing());
  EXPECT_EQ(tracker.video_frames(), 2u);
  EXPECT_TRUE(session.scanner().at_tag_boundary());
}

TEST(FlvPlaySession, NotFoundFails) {
  FlvPlayTarget target("h", "/live/x.flv", false);
  MediaTracker tracker;
  FlvPlaySession session(target, tracker);
  feed_all(session, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 5);
  EXPECT_EQ(session.outcome(), PlaySession::Outcome::kFailed);
  EXPECT_EQ(session.reason(), "http status 404");
}

TEST(FlvPlaySession, BadPreviousTagSizeIsCorrupt) {
  FlvPlayTarget target("h", "/live/s.flv", true);
  Bytes body = flv_body();
  body.back() ^= 1;
  std::string wire = "HTTP/1.0 200 OK\r\n\r\n" + std::string(body.begin(), body.end());
  MediaTracker tracker;
  FlvPlaySession session(target, tracker);
  feed_all(session, wire, wire.size());
  EXPECT_EQ(session.outcome(), PlaySession::Outcome::kCorrupt);
  EXPECT_NE(session.reason().find("PreviousTagSize"), std::string::npos) << session.reason();
}

}  // namespace
}  // namespace cascade::loadgen
