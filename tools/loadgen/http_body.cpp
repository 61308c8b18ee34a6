#include "loadgen/http_body.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace cascade::loadgen {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

size_t find_head_end(std::string_view bytes) {
  size_t end = bytes.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

Result<ResponseHead> parse_response_head(std::string_view head) {
  ResponseHead out;
  size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return make_error("HTTP response head without CRLF");
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
      !std::isdigit(static_cast<unsigned char>(status_line[7])) || status_line[8] != ' ') {
    return make_error("bad HTTP status line '{}'", status_line.substr(0, 64));
  }
  out.version_minor = status_line[7] - '0';
  auto [ptr, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, out.status);
  if (ec != std::errc() || ptr != status_line.data() + 12 || out.status < 100 ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return make_error("bad HTTP status code in '{}'", status_line.substr(0, 64));
  }

  bool chunked = false;
  bool transfer_encoding = false;
  bool close = false, keep_alive = false;
  std::optional<uint64_t> content_length;
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    // RFC 9112 5: field-line = field-name ":" OWS field-value OWS
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return make_error("bad HTTP field line '{}'", line.substr(0, 64));
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Transfer-Encoding")) {
      // RFC 9112 6.3: chunked as the final coding delimits the body.
      transfer_encoding = true;
      size_t comma = value.rfind(',');
      chunked = iequals(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)),
                        "chunked");
    } else if (iequals(name, "Content-Length")) {
      uint64_t length = 0;
      auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (e != std::errc() || p != value.data() + value.size()) {
        return make_error("bad Content-Length '{}'", value.substr(0, 32));
      }
      content_length = length;
    } else if (iequals(name, "Connection")) {
      // RFC 9110 7.6.1: a comma-separated list of connection options.
      while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view option = trim(value.substr(0, comma));
        close = close || iequals(option, "close");
        keep_alive = keep_alive || iequals(option, "keep-alive");
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
      }
    }
  }
  out.connection_close = close || (out.version_minor == 0 && !keep_alive);
  if (transfer_encoding) {
    out.framing = chunked ? BodyFraming::kChunked : BodyFraming::kClose;
  } else if (content_length) {
    out.framing = BodyFraming::kContentLength;
    out.content_length = *content_length;
  }
  return out;
}

BodyDecoder::BodyDecoder(BodyFraming framing, uint64_t content_length, AfterEnd after_end)
    : framing_(framing),
      after_end_(after_end),
      state_(framing == BodyFraming::kChunked                                ? State::kSize
             : framing == BodyFraming::kContentLength && content_length == 0 ? State::kDone
                                                                             : State::kData),
      remaining_(content_length) {}

Error BodyDecoder::fail(Error error) {
  failed_ = true;
  error_ = error;
  return error;
}

Result<size_t> BodyDecoder::feed(std::span<const uint8_t> bytes, BodySink& sink) {
  if (failed_) return error_;
  const uint8_t* data = bytes.data();
  const size_t size = bytes.size();
  size_t pos = 0;
  if (framing_ == BodyFraming::kClose) {
    body_bytes_ += size;
    if (size) sink.on_body(bytes);
    return size;
  }
  while (pos < size) {
    const uint8_t c = data[pos];
    switch (state_) {
      case State::kSize: {
        int v = hex_value(c);
        if (v >= 0) {
          // 15 hex digits: far beyond any real chunk, and no overflow.
          if (++size_digits_ > 15) return fail(make_error("chunk size too large"));
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          ++pos;
          break;
        }
        if (size_digits_ == 0) return fail(make_error("chunk size line starts with 0x{:02x}", c));
        state_ = State::kExtension;
        break;
      }
      case State::kExtension:
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): skipped.
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7F) {
          return fail(make_error("bad byte 0x{:02x} in a chunk size line", c));
        }
        ++pos;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail(make_error("chunk size line not ended by CRLF"));
        ++pos;
        size_digits_ = 0;
        if (remaining_ == 0) {
          trailer_line_empty_ = true;
          state_ = State::kTrailerLine;
        } else {
          ++chunks_;
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, size - pos));
        remaining_ -= n;
        body_bytes_ += n;
        bool go_on = sink.on_body(bytes.subspan(pos, n));
        pos += n;
        if (remaining_ == 0) {
          state_ = framing_ == BodyFraming::kChunked ? State::kDataCr : State::kDone;
        }
        if (!go_on) return pos;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail(make_error("chunk data not followed by CRLF (0x{:02x})", c));
        ++pos;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail(make_error("chunk data not followed by CRLF"));
        ++pos;
        state_ = State::kSize;
        break;
      case State::kTrailerLine:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else {
          trailer_line_empty_ = false;
        }
        ++pos;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail(make_error("trailer line not ended by CRLF"));
        ++pos;
        if (trailer_line_empty_) {
          state_ = State::kDone;
        } else {
          trailer_line_empty_ = true;
          state_ = State::kTrailerLine;
        }
        break;
      case State::kDone:
        if (after_end_ == AfterEnd::kStop) return pos;
        return fail(make_error("{} bytes after the end of the body", size - pos));
    }
  }
  return pos;
}

}  // namespace cascade::loadgen
