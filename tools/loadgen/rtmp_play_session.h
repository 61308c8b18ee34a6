// RtmpPlaySession: an RTMP player (RTMP spec 5.2, 7.2.1.1, 7.2.2.1):
// handshake (rtmp::ClientHandshake), connect, createStream, play, then media
// through RtmpChunkScanner, answering Ping Requests and sending the
// Acknowledgements the server's Window Acknowledgement Size asks for.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loadgen/media_tracker.h"
#include "loadgen/play_session.h"
#include "loadgen/rtmp_chunk_scanner.h"
#include "protocols/rtmp/handshake.h"

namespace cascade::loadgen {

// What every viewer of a run sends, encoded once (shared, read-only).
struct RtmpPlayTarget {
  RtmpPlayTarget(std::string app, std::string stream, std::string tc_url, bool digest);

  std::string stream;
  bool digest;
  std::vector<uint8_t> connect;        // chunked connect command (transaction 1)
  std::vector<uint8_t> create_stream;  // chunked createStream (transaction 2)
  std::vector<uint8_t> play_payload;   // AMF0 play command; msid known later
};

class RtmpPlaySession final : public PlaySession, private RtmpMessageSink {
 public:
  RtmpPlaySession(const RtmpPlayTarget& target, MediaTracker& tracker);

  void start(std::vector<uint8_t>& out) override;
  size_t feed(std::span<const uint8_t> in, int64_t now_us, std::vector<uint8_t>& out) override;

  const RtmpChunkScanner& scanner() const { return scanner_; }

 private:
  enum class Step : uint8_t { kHandshake, kConnect, kCreateStream, kPlay, kPlaying };

  bool on_message(const RtmpMessage& message) override;
  bool on_command(std::span<const uint8_t> amf0);
  void fail_or_corrupt(std::string reason);

  const RtmpPlayTarget& target_;
  MediaTracker& tracker_;
  Step step_ = Step::kHandshake;
  std::unique_ptr<rtmp::ClientHandshake> handshake_;  // freed once done
  RtmpChunkScanner scanner_;
  // Valid during feed(): where on_message() writes replies, and the time.
  std::vector<uint8_t>* out_ = nullptr;
  int64_t now_us_ = 0;
};

}  // namespace cascade::loadgen
