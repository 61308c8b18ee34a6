#include "live/stream_key.h"

namespace cascade::live {
namespace {

bool valid_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("._~-!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

Status check_part(std::string_view what, std::string_view part) {
  if (part.empty()) return make_error("empty {} name", what);
  if (part.size() > 128) return make_error("{} name longer than 128 characters", what);
  if (part == "." || part == "..") return make_error("invalid {} name '{}'", what, part);
  for (char c : part) {
    if (!valid_char(c)) {
      return make_error("{} name has a character that is not allowed (0x{:02x})", what,
                        static_cast<unsigned char>(c));
    }
  }
  return {};
}

}  // namespace

Result<std::string> make_stream_key(std::string_view app, std::string_view stream) {
  if (auto s = check_part("app", app); !s) return s.error();
  if (auto s = check_part("stream", stream); !s) return s.error();
  std::string key;
  key.reserve(app.size() + 1 + stream.size());
  key.append(app).append("/").append(stream);
  return key;
}

}  // namespace cascade::live
