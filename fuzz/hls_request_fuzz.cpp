// Fuzzes the HLS request parsers with a request target, "path?query", split
// at the first '?' as the HLS route splits it. Whatever parses must satisfy
// the parsers' contracts and survive a round trip through its canonical
// form: the URL the server would write for that target parses back to the
// same target, and likewise for the delivery directives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocols/hls/hls_request.h"

using cascade::hls::DeliveryDirectives;
using cascade::hls::HlsTarget;
using cascade::hls::Resource;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded.
std::string escape(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string canonical_path(const HlsTarget& t) {
  const std::string base = "/" + escape(t.app) + "/" + escape(t.stream);
  const std::string media = base + "/" + t.epoch + "/";
  switch (t.resource) {
    case Resource::kMaster:
      return base + ".m3u8";
    case Resource::kFmp4Playlist:
      return base + "/index.m3u8";
    case Resource::kTsPlaylist:
      return base + "/ts.m3u8";
    case Resource::kFmp4DvrPlaylist:
      return base + "/dvr.m3u8";
    case Resource::kTsDvrPlaylist:
      return base + "/ts-dvr.m3u8";
    case Resource::kInit:
      return media + "init" + std::to_string(t.number) + ".mp4";
    case Resource::kFmp4Segment:
      return media + "s" + std::to_string(t.number) + ".m4s";
    case Resource::kPart:
      return media + "p" + std::to_string(t.number) + "." + std::to_string(t.part) + ".m4s";
    case Resource::kTsSegment:
      return media + "s" + std::to_string(t.number) + ".ts";
  }
  std::abort();
}

void check_name(const std::string& name) {
  check(!name.empty() && name != "." && name != "..");
  check(name.find('/') == std::string::npos && name.find('\0') == std::string::npos);
}

void check_target(const HlsTarget& t) {
  check_name(t.app);
  check_name(t.stream);
  if (cascade::hls::is_playlist(t.resource)) {
    check(t.epoch.empty() && t.number == 0 && t.part == 0);
  } else {
    check(!t.epoch.empty() && t.epoch.size() <= 32);
    for (char c : t.epoch) check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
    if (t.resource != Resource::kPart) check(t.part == 0);
  }
  const auto again = cascade::hls::parse_hls_path(canonical_path(t));
  check(again.has_value());
  check(again->app == t.app && again->stream == t.stream && again->resource == t.resource &&
        again->epoch == t.epoch && again->number == t.number && again->part == t.part);
}

void check_directives(const DeliveryDirectives& d) {
  check(!d.part || d.msn);  // 8216bis 6.2.5.2
  std::string query = "other=1";
  if (d.msn) query += "&_HLS_msn=" + std::to_string(*d.msn);
  if (d.part) query += "&_HLS_part=" + std::to_string(*d.part);
  if (d.skip) query += "&_HLS_skip=YES";
  const auto again = cascade::hls::parse_delivery_directives(query);
  check(again.ok());
  check(again->msn == d.msn && again->part == d.part && again->skip == d.skip);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  if (auto parsed = cascade::hls::parse_hls_path(path)) check_target(*parsed);
  // The whole target as a path: a '?' is just another character there.
  if (auto parsed = cascade::hls::parse_hls_path(target)) check_target(*parsed);

  auto directives = cascade::hls::parse_delivery_directives(query);
  if (directives.ok()) {
    check_directives(*directives);
  } else {
    check(!directives.error().message.empty());
  }
  return 0;
}
