// FlvPlaySession: an HTTP-FLV player: GET, the response head (RFC 9112), the
// body through BodyDecoder (chunked, Content-Length or close-delimited), and
// FLV tags through FlvTagScanner, all in place.
#pragma once

#include <string>
#include <vector>

#include "loadgen/flv_tag_scanner.h"
#include "loadgen/http_body.h"
#include "loadgen/media_tracker.h"
#include "loadgen/play_session.h"

namespace cascade::loadgen {

// The request every viewer of a run sends, built once (shared, read-only).
struct FlvPlayTarget {
  FlvPlayTarget(std::string_view host_header, std::string_view path, bool http10);
  std::string request;
};

class FlvPlaySession final : public PlaySession, private BodySink, private FlvTagSink {
 public:
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  FlvPlaySession(const FlvPlayTarget& target, MediaTracker& tracker);

  void start(std::vector<uint8_t>& out) override;
  size_t feed(std::span<const uint8_t> in, int64_t now_us, std::vector<uint8_t>& out) override;

  int status() const { return status_; }
  const FlvTagScanner& scanner() const { return scanner_; }
  const BodyDecoder& body() const { return body_; }

 private:
  bool on_body(std::span<const uint8_t> bytes) override;
  bool on_tag(const FlvTag& tag) override;

  const FlvPlayTarget& target_;
  MediaTracker& tracker_;
  std::string head_;  // the response head while it arrives; freed after
  bool head_done_ = false;
  int status_ = 0;
  BodyDecoder body_;
  FlvTagScanner scanner_;
  int64_t now_us_ = 0;
};

}  // namespace cascade::loadgen
