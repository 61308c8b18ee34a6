// What a server asks the access layer (AccessRequest) and what it answers
// (AccessDecision). Plain values: built on the session's worker, copied
// into the checking coroutine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cascade::access {

enum class AccessAction : uint8_t { kConnect, kPublish, kPlay, kDone };
enum class AccessProtocol : uint8_t { kRtmp, kHttpFlv, kHls };

std::string_view to_string(AccessAction action);
std::string_view to_string(AccessProtocol protocol);

struct AccessRequest {
  AccessAction action = AccessAction::kPlay;
  AccessProtocol protocol = AccessProtocol::kRtmp;
  std::string app;     // as the hub sees it: decoded, no query
  std::string stream;  // empty for kConnect
  std::string client_ip;
  // The raw query (no '?', not decoded) the client sent with the stream
  // name or HTTP target, and for RTMP the one on the tcUrl / connect app.
  // A parameter in `query` wins over the same one in `connect_query`.
  std::string query;
  std::string connect_query;
  std::string session_id;  // for logs and webhooks; unique per connection
  size_t worker = 0;       // the worker the request is checked on
};

struct AccessDecision {
  enum class Kind : uint8_t { kAllow, kDeny, kRedirect };
  Kind kind = Kind::kAllow;
  std::string reason;        // kDeny: for the client and the log
  std::string redirect_url;  // kRedirect

  static AccessDecision allow() { return {}; }
  static AccessDecision deny(std::string reason) { return {Kind::kDeny, std::move(reason), {}}; }
  static AccessDecision redirect(std::string url) {
    return {Kind::kRedirect, "redirected to " + url, std::move(url)};
  }
  bool allowed() const { return kind == Kind::kAllow; }
  bool operator==(const AccessDecision&) const = default;
};

// A query parameter from `request.query`, else from `request.connect_query`
// (raw, not decoded).
std::string_view request_parameter(const AccessRequest& request, std::string_view name);

}  // namespace cascade::access
