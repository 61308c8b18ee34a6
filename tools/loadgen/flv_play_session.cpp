#include "loadgen/flv_play_session.h"

#include <fmt/format.h>

#include <algorithm>

namespace cascade::loadgen {

FlvPlayTarget::FlvPlayTarget(std::string_view host_header, std::string_view path, bool http10)
    : request(fmt::format("GET {} HTTP/1.{}\r\nHost: {}\r\nUser-Agent: cascade-loadgen\r\n"
                          "Accept: */*\r\nConnection: close\r\n\r\n",
                          path, http10 ? 0 : 1, host_header)) {}

FlvPlaySession::FlvPlaySession(const FlvPlayTarget& target, MediaTracker& tracker)
    : target_(target), tracker_(tracker) {}

void FlvPlaySession::start(std::vector<uint8_t>& out) {
  out.insert(out.end(), target_.request.begin(), target_.request.end());
}

size_t FlvPlaySession::feed(std::span<const uint8_t> in, int64_t now_us, std::vector<uint8_t>&) {
  now_us_ = now_us;
  std::span<const uint8_t> body = in;
  if (!head_done_) {
    size_t before = head_.size();
    head_.append(reinterpret_cast<const char*>(in.data()), in.size());
    // Search from where a CRLFCRLF could start that the last call missed.
    size_t from = before >= 3 ? before - 3 : 0;
    size_t end = find_head_end(std::string_view(head_).substr(from));
    if (end == 0) {
      if (head_.size() > kMaxHeadBytes) finish(Outcome::kFailed, "http response head too large");
      return in.size();
    }
    end += from;
    auto head = parse_response_head(std::string_view(head_).substr(0, end));
    if (!head) {
      finish(Outcome::kFailed, "http: " + head.error().message);
      return in.size();
    }
    status_ = head->status;
    if (head->status != 200) {
      finish(Outcome::kFailed, fmt::format("http status {}", head->status));
      return in.size();
    }
    head_done_ = true;
    playing_ = true;
    body_ = BodyDecoder(head->framing, head->content_length);
    body = in.subspan(end - before);
    std::string().swap(head_);
  }
  auto consumed = body_.feed(body, *this);
  if (!consumed) {
    finish(Outcome::kCorrupt, "http body: " + consumed.error().message);
  } else if (body_.done()) {
    stream_ended_ = true;
  }
  return in.size();
}

bool FlvPlaySession::on_body(std::span<const uint8_t> bytes) {
  auto consumed = scanner_.feed(bytes, *this);
  if (!consumed) {
    finish(Outcome::kCorrupt, "flv: " + consumed.error().message);
    return false;
  }
  return outcome() == Outcome::kActive;
}

bool FlvPlaySession::on_tag(const FlvTag& tag) {
  Status status;
  if (tag.type == 9) {
    status = tracker_.on_video(tag.timestamp, tag.head, tag.data_size, now_us_);
  } else if (tag.type == 8) {
    status = tracker_.on_audio(tag.timestamp, tag.head, tag.data_size, now_us_);
  }
  if (!status) {
    finish(Outcome::kCorrupt, status.error().message);
    return false;
  }
  return true;
}

}  // namespace cascade::loadgen
