// ServerSession: the server side of one RTMP connection as a sans-I/O state
// machine: handshake, chunk stream, protocol control and NetConnection /
// NetStream commands (RTMP spec 5, 6, 7).
//
// Contract: feed() takes bytes from the socket and returns how many it
// consumed (the caller keeps and re-feeds the rest). Bytes to send collect in
// output(); requests that need a decision from the server (connect, publish,
// play) and media from a publisher collect in events(). The server answers a
// request with the matching accept_* / reject_* call, which appends the
// replies to output(). An Err from feed() means the peer broke the protocol:
// send what is in output(), then close. One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "protocols/rtmp/chunk_reader.h"
#include "media/amf0.h"
#include "protocols/rtmp/handshake.h"
#include "protocols/rtmp/message.h"

namespace cascade::rtmp {

struct SessionConfig {
  uint32_t out_chunk_size = 4096;
  uint32_t window_ack_size = 2'500'000;
  uint32_t peer_bandwidth = 2'500'000;
  ChunkReaderLimits limits;
};

struct ConnectRequest {
  std::string app;    // without query
  std::string query;  // from the app or tcUrl, without '?'
  std::string tc_url;
  std::string flash_ver;
};
struct PublishRequest {
  std::string stream;  // stream name without query
  std::string query;
  std::string type;  // "live", "record", "append"
};
struct PlayRequest {
  std::string stream;
  std::string query;
  double start = -2;
};
// An audio (8), video (9) or data (18) message from the publisher; data
// messages are normalized to AMF0 with "@setDataFrame" removed.
struct MediaMessage {
  Message message;
  bool metadata = false;  // onMetaData
};
// FCUnpublish, deleteStream or closeStream while publishing.
struct Unpublish {};
// closeStream / deleteStream while playing.
struct StopPlay {};
struct Pause {
  bool paused = false;
};

using SessionEvent =
    std::variant<ConnectRequest, PublishRequest, PlayRequest, MediaMessage, Unpublish, StopPlay, Pause>;

class ServerSession {
 public:
  enum class State { kHandshake, kConnecting, kConnected, kPublishing, kPlaying };

  explicit ServerSession(SessionConfig config);

  Result<size_t> feed(std::span<const uint8_t> bytes);

  std::vector<uint8_t>& output() { return output_; }
  std::vector<SessionEvent>& events() { return events_; }
  State state() const { return state_; }
  bool handshake_digest_used() const { return digest_used_; }
  const std::string& app() const { return app_; }
  // Set when the session must close once output() is sent (a refused
  // request, or the peer asked to end); with the reason to log.
  const std::optional<std::string>& close_reason() const { return close_reason_; }
  // Things the peer did that the server answered but should log (unknown
  // commands); the caller logs and clears them.
  std::vector<std::string>& notices() { return notices_; }

  // A refusal may carry a redirect URL (access control sends a client
  // elsewhere): the info object then also holds "ex": {"code": 302,
  // "redirect": url} and "redirect": url (the fields SRS and
  // Flash/AMS-compatible players read).
  void accept_connect();
  void reject_connect(std::string_view description, std::string_view redirect = {});
  // A connection already accepted whose connect is refused afterwards (a
  // late on_connect answer): onStatus NetConnection.Connect.Rejected, close.
  void revoke_connect(std::string_view description, std::string_view redirect = {});
  void accept_publish(std::string_view stream);
  void reject_publish(std::string_view code, std::string_view description,
                      std::string_view redirect = {});
  // Sends Stream Begin, NetStream.Play.Reset/Start and |RtmpSampleAccess.
  // Media follows as shared packaged bytes on msid kPlayStreamId.
  void accept_play(std::string_view stream);
  void reject_play(std::string_view code, std::string_view description,
                   std::string_view redirect = {});
  // The played stream ended for good: NetStream.Play.UnpublishNotify + Stream EOF.
  void notify_play_ended(std::string_view stream);

 private:
  Status handle_message(const Message& message);
  Status handle_command(std::span<const uint8_t> amf0_payload);
  Status handle_data(const Message& message, std::span<const uint8_t> amf0_payload);
  Status handle_aggregate(const Message& message);
  void handle_user_control(const Message& message);
  void maybe_acknowledge();
  void send_result(double transaction, std::initializer_list<amf0::Value> values);
  void send_error(double transaction, std::string_view code, std::string_view description,
                  std::string_view redirect = {});
  void send_status(std::string_view level, std::string_view code, std::string_view description,
                   std::string_view redirect = {});
  void close_after_output(std::string reason);

  SessionConfig config_;
  State state_ = State::kHandshake;
  // Freed once done: a connection keeps no handshake buffers.
  std::unique_ptr<ServerHandshake> handshake_ = std::make_unique<ServerHandshake>();
  bool digest_used_ = false;
  ChunkReader reader_;
  std::vector<Message> messages_;
  std::vector<uint8_t> output_;
  std::vector<SessionEvent> events_;
  std::optional<std::string> close_reason_;
  std::vector<std::string> notices_;
  // Chunk size of our output: 128 until accept_connect() sends Set Chunk Size.
  uint32_t out_chunk_size_ = kDefaultChunkSize;

  std::string app_;
  double connect_transaction_ = 0;
  double object_encoding_ = 0;
  double publish_transaction_ = 0;
  double play_transaction_ = 0;
  uint32_t peer_window_ack_size_ = 0;
  uint64_t last_ack_bytes_ = 0;
};

}  // namespace cascade::rtmp
