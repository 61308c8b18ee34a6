// Fuzzes the access checks that read untrusted query strings: the publish
// key check and the signed play URL check (src/access), with the input as
// the stream name's query, and the playlist rewriting with the input as a
// playlist. Contracts checked: a check never allows a forged signature or
// key, an allowed signed request yields a token of digits, hex and "=&"
// only (nothing of the request reaches a playlist), and rewriting keeps
// every line of the playlist (the same number of line breaks); the query
// carried into playlists for webhooks is bounded and holds no character
// that could end a URI, a quoted attribute or a line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "access/play_signature.h"
#include "access/playlist_tokens.h"
#include "access/publish_keys.h"

using namespace cascade::access;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view kSecret = "fuzz-secret-0123456789";
constexpr int64_t kNow = 1'700'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  AccessRequest request;
  request.app = "live";
  request.stream = "demo";
  request.client_ip = "127.0.0.1";
  request.query = input;

  const PublishKeys keys(PublishKeyTable{{"live", {"k1"}}});
  const AccessDecision publish = keys.check(request);
  if (publish.allowed()) check(input.find("key=k1") != std::string::npos);

  for (bool required : {true, false}) {
    const PlaySignatureCheck play = check_play_signature(kSecret, required, request, kNow);
    if (!play.decision.allowed()) check(play.token.empty());
    check(std::all_of(play.token.begin(), play.token.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'F') ||
             c == '=' || c == '&';
    }));
    if (play.decision.allowed() && required) check(!play.token.empty());
  }

  const std::string carried = playlist_carried_query(input);
  check(carried.size() <= kMaxCarriedQuery);
  check(carried.find_first_of("\"#\r\n <>") == std::string::npos);

  const std::string rewritten = append_query_to_playlist_uris(input, "expires=1&sig=ab");
  check(std::count(rewritten.begin(), rewritten.end(), '\n') ==
        std::count(input.begin(), input.end(), '\n'));
  check(rewritten.size() >= input.size());
  return 0;
}
