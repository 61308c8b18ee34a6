#include "loadgen/http_response_reader.h"

#include <algorithm>
#include <string_view>

namespace cascade::loadgen {
namespace {

// Forwards BodyDecoder's output to the ResponseSink.
class BodyForward final : public BodySink {
 public:
  explicit BodyForward(ResponseSink& sink) : sink_(sink) {}
  bool on_body(std::span<const uint8_t> bytes) override {
    go_on = sink_.on_response_body(bytes);
    return go_on;
  }
  bool go_on = true;

 private:
  ResponseSink& sink_;
};

}  // namespace

bool status_has_no_body(int status) {
  return status == 204 || status == 304 || (status >= 100 && status < 200);
}

void ResponseReader::reset() {
  head_.clear();
  in_body_ = false;
  failed_ = false;
  body_ = BodyDecoder();
  responses_ = 0;
}

Error ResponseReader::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error;
}

Result<size_t> ResponseReader::feed(std::span<const uint8_t> bytes, ResponseSink& sink) {
  if (failed_) return error_;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (!in_body_) {
      // The head's end: across the bytes kept from earlier calls and these,
      // else within these. Only head bytes are copied, and only when a head
      // is split across calls.
      const std::string_view input(reinterpret_cast<const char*>(bytes.data() + pos),
                                   bytes.size() - pos);
      size_t end = 0;  // bytes of `input` that complete the head
      if (!head_.empty()) {
        const size_t kept = std::min<size_t>(3, head_.size());
        std::string joint = head_.substr(head_.size() - kept);
        joint.append(input.substr(0, 3));
        if (size_t at = joint.find("\r\n\r\n"); at != std::string::npos) end = at + 4 - kept;
      }
      if (end == 0) end = find_head_end(input);
      if (end == 0) {
        if (head_.size() + input.size() > kMaxHeadBytes) {
          return fail(make_error("http response head too large"));
        }
        head_.append(input);
        pos = bytes.size();
        continue;
      }
      if (head_.size() + end > kMaxHeadBytes + 4) {
        return fail(make_error("http response head too large"));
      }
      std::string_view head_text = input.substr(0, end);
      if (!head_.empty()) {
        head_.append(head_text);
        head_text = head_;
      }
      pos += end;
      auto head = parse_response_head(head_text);
      head_.clear();
      if (!head) return fail(head.error());
      if (head->status >= 100 && head->status < 200) continue;  // interim
      const bool no_body = status_has_no_body(head->status);
      if (!no_body && head->framing == BodyFraming::kClose) {
        return fail(
            make_error("http {} response without Content-Length or chunked framing", head->status));
      }
      if (!sink.on_response_head(*head)) return pos;
      if (no_body) {
        ++responses_;
        if (!sink.on_response_end()) return pos;
        continue;
      }
      body_ = BodyDecoder(head->framing, head->content_length, BodyDecoder::AfterEnd::kStop);
      in_body_ = true;
      if (body_.done()) {  // Content-Length: 0
        in_body_ = false;
        ++responses_;
        if (!sink.on_response_end()) return pos;
      }
      continue;
    }
    BodyForward forward(sink);
    auto consumed = body_.feed(bytes.subspan(pos), forward);
    if (!consumed) return fail(consumed.error());
    pos += *consumed;
    if (!forward.go_on) return pos;
    if (body_.done()) {
      in_body_ = false;
      ++responses_;
      if (!sink.on_response_end()) return pos;
    }
  }
  return pos;
}

}  // namespace cascade::loadgen
