// HTTP webhooks (on_connect, on_publish, on_play, on_done): the JSON a hook
// receives, an asynchronous HTTP/1.1 POST (Beast, http:// URLs only), and
// how an answer maps to a decision:
//   2xx                                   allow
//   2xx with a JSON body {"redirect": u}  redirect to u
//   3xx with Location (or that JSON)      redirect
//   anything else, a timeout, a failure   deny (deny by default)
// A deny's reason includes the body's JSON "reason" string when there is one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "access/access_request.h"
#include "core/result.h"

namespace cascade::access {

struct WebhookUrl {
  std::string host;    // name or address (IPv6 without brackets)
  std::string port;    // "80" when the URL has none
  std::string target;  // path and query, at least "/"
  std::string text;    // the URL as configured, for logs
};

// "http://host[:port][/path][?query]". Errors name the problem.
Result<WebhookUrl> parse_webhook_url(std::string_view url);

struct WebhookResponse {
  unsigned status = 0;
  std::string location;
  std::string body;
};

// The POST body: {"action","app","stream","protocol","client_ip","query",
// "params":{name: decoded value},"session_id"}; params merge the stream
// query and (RTMP) the tcUrl query, the stream's winning.
std::string webhook_body(const AccessRequest& request);

// POSTs `body` (application/json) to `url` on the calling coroutine's
// executor (`url` must outlive the call); `timeout_ms` bounds name
// resolution + connect + request + response together. Never blocks the
// thread (resolution runs on Asio's resolver thread). Answers larger than
// 64 KiB are errors.
boost::asio::awaitable<Result<WebhookResponse>> post_webhook(const WebhookUrl& url,
                                                             std::string body, uint32_t timeout_ms);

AccessDecision decision_from_webhook(const Result<WebhookResponse>& response);

}  // namespace cascade::access
