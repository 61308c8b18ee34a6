// AccessControl: the one place the servers ask whether a client may
// connect, publish or play, and tell when a session is done. Checks, in
// order: publish stream keys (publish_keys.h), signed play URLs
// (play_signature.h), then the webhook for the action (webhook.h), whose
// answers are cached per worker (decision_cache.h).
//
// Threads: one AccessControl for the process, immutable settings; check()
// and notify() run on the caller's worker (request.worker) and touch only
// that worker's cache, so no locks. check() never blocks the thread: the
// webhook is an asynchronous HTTP client on the same event loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "access/access_request.h"
#include "access/decision_cache.h"
#include "access/publish_keys.h"
#include "access/webhook.h"
#include "core/result.h"

namespace cascade::access {

struct AccessSettings {
  PublishKeyTable publish_keys;  // app -> keys; an app not listed is open
  std::string play_secret;       // empty: play is open
  bool play_require_signature = true;
  std::string on_connect, on_publish, on_play, on_done;  // webhook URLs; empty: none
  uint32_t webhook_timeout_ms = 2'000;
  uint32_t webhook_cache_ttl_ms = 10'000;   // 0: no caching
  uint32_t webhook_cache_entries = 10'000;  // per worker
};

// What check() answers: the decision, and for an allowed play the query to
// carry into HLS playlist URIs: the signed token (play_signature.h), or with
// an on_play webhook the client's safe parameters (playlist_tokens.h).
struct AccessResult {
  AccessDecision decision;
  std::string token;
};

class AccessControl {
 public:
  // Errors: a webhook URL that does not parse.
  static Result<std::unique_ptr<AccessControl>> create(AccessSettings settings, size_t workers);

  // True when nothing can refuse `action` on `app`: callers skip check()
  // entirely (the open path costs a few compares).
  bool open(AccessAction action, std::string_view app) const;

  // The decision for `request` (kConnect, kPublish or kPlay). Runs on
  // request.worker's executor.
  boost::asio::awaitable<AccessResult> check(AccessRequest request);
  // Fire-and-forget notification (on_done): spawned on `executor` (the
  // session's worker), never delays the caller; failures are logged.
  void notify(boost::asio::any_io_executor executor, AccessRequest request);

 private:
  AccessControl(AccessSettings settings, size_t workers);
  const std::optional<WebhookUrl>& hook(AccessAction action) const;
  boost::asio::awaitable<AccessDecision> call_hook(const WebhookUrl& url, AccessRequest request,
                                                   bool cached);

  // A webhook call in progress for one cache key: requests with the same
  // key wait for its answer instead of calling again (a player's playlist
  // and segment requests arriving together ask once).
  struct InFlight {
    explicit InFlight(const boost::asio::any_io_executor& executor)
        : done(executor, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer done;  // cancelled once `decision` is set
    AccessDecision decision;
  };
  struct PerWorker {
    PerWorker(size_t entries, int64_t ttl_ms) : cache(entries, ttl_ms) {}
    DecisionCache cache;
    std::unordered_map<std::string, std::shared_ptr<InFlight>> in_flight;
  };

  AccessSettings settings_;
  PublishKeys keys_;
  std::optional<WebhookUrl> hooks_[4];               // indexed by AccessAction
  std::vector<std::unique_ptr<PerWorker>> workers_;  // each touched only on its worker
};

// The client's address as signatures and webhooks see it: an IPv4-mapped
// IPv6 peer as its IPv4 address. "unknown" when the socket has none.
std::string client_ip(const boost::asio::ip::tcp::socket& socket);

// A fresh session id ("s" + counter), unique in the process.
std::string next_session_id();

}  // namespace cascade::access
