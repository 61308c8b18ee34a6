#include "access/access_control.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "access/play_signature.h"
#include "access/playlist_tokens.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/query_string.h"
#include "core/time.h"

namespace cascade::access {

using boost::asio::awaitable;

namespace {

spdlog::logger& logger() {
  return log::get("access");
}

Counter& webhook_calls_counter() {
  static Counter& c = Metrics::global().counter("cascade_access_webhook_calls_total");
  return c;
}

int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The query without LL-HLS delivery directives (8216bis 6.2.5), which
// change per playlist reload and say nothing about who asks.
void append_parameters(std::string& out, std::string_view query) {
  while (auto p = next_query_parameter(query)) {
    if (p->name.starts_with("_HLS_")) continue;
    out.append(p->name);
    out.push_back('=');
    out.append(p->value);
    out.push_back('&');
  }
}

std::string cache_key(const AccessRequest& request) {
  std::string key;
  key.reserve(128);
  key.append(to_string(request.action));
  key.push_back('\x1f');
  key.append(request.app);
  key.push_back('\x1f');
  key.append(request.stream);
  key.push_back('\x1f');
  key.append(request.client_ip);
  key.push_back('\x1f');
  append_parameters(key, request.query);
  key.push_back('\x1f');
  append_parameters(key, request.connect_query);
  return key;
}

}  // namespace

Result<std::unique_ptr<AccessControl>> AccessControl::create(AccessSettings settings,
                                                             size_t workers) {
  std::unique_ptr<AccessControl> control(new AccessControl(std::move(settings), workers));
  const std::string* urls[4] = {&control->settings_.on_connect, &control->settings_.on_publish,
                                &control->settings_.on_play, &control->settings_.on_done};
  for (size_t i = 0; i < 4; ++i) {
    if (urls[i]->empty()) continue;
    auto url = parse_webhook_url(*urls[i]);
    if (!url) return url.error();
    control->hooks_[i] = std::move(url.value());
  }
  return control;
}

AccessControl::AccessControl(AccessSettings settings, size_t workers)
    : settings_(std::move(settings)), keys_(settings_.publish_keys) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) {
    workers_.push_back(std::make_unique<PerWorker>(settings_.webhook_cache_entries,
                                                   settings_.webhook_cache_ttl_ms));
  }
}

const std::optional<WebhookUrl>& AccessControl::hook(AccessAction action) const {
  return hooks_[static_cast<size_t>(action)];
}

bool AccessControl::open(AccessAction action, std::string_view app) const {
  if (hook(action)) return false;
  switch (action) {
    case AccessAction::kPublish:
      return !keys_.guards(app);
    case AccessAction::kPlay:
      return settings_.play_secret.empty();
    default:
      return true;
  }
}

awaitable<AccessResult> AccessControl::check(AccessRequest request) {
  AccessResult result;
  if (request.action == AccessAction::kPublish) {
    result.decision = keys_.check(request);
  } else if (request.action == AccessAction::kPlay) {
    auto signature = check_play_signature(settings_.play_secret, settings_.play_require_signature,
                                          request, unix_now_s());
    result.decision = std::move(signature.decision);
    result.token = std::move(signature.token);
  }
  if (!result.decision.allowed()) co_return result;
  if (const auto& url = hook(request.action)) {
    // HLS playlists then carry what the hook saw, so the segment requests
    // they lead to show it the same parameters (signature included).
    if (request.action == AccessAction::kPlay) result.token = playlist_carried_query(request.query);
    AccessDecision decision = co_await call_hook(*url, std::move(request), true);
    result.decision = std::move(decision);
  }
  co_return result;
}

awaitable<AccessDecision> AccessControl::call_hook(const WebhookUrl& url, AccessRequest request,
                                                   bool cached) {
  PerWorker& worker = *workers_[request.worker % workers_.size()];
  std::string key;
  std::shared_ptr<InFlight> flight;
  if (cached) {
    key = cache_key(request);
    if (const AccessDecision* hit = worker.cache.find(key, steady_now_ms())) co_return *hit;
    if (auto found = worker.in_flight.find(key); found != worker.in_flight.end()) {
      std::shared_ptr<InFlight> leader = found->second;
      boost::system::error_code ec;
      co_await leader->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      co_return leader->decision;
    }
    auto executor = co_await boost::asio::this_coro::executor;
    flight = std::make_shared<InFlight>(executor);
    worker.in_flight.emplace(key, flight);
  }
  webhook_calls_counter().inc();
  std::string body = webhook_body(request);
  auto response = co_await post_webhook(url, std::move(body), settings_.webhook_timeout_ms);
  AccessDecision decision = decision_from_webhook(response);
  if (flight) {
    flight->decision = decision;
    worker.in_flight.erase(key);
    flight->done.cancel();  // wakes the requests that waited for this answer
  }
  if (!response) {
    // A failed hook denies but is not cached: the next request asks again.
    logger().warn("[{} {} {}/{}] {} webhook failed: {}", to_string(request.protocol),
                  request.client_ip, request.app, request.stream, to_string(request.action),
                  response.error().message);
  } else if (cached) {
    worker.cache.insert(key, decision, steady_now_ms());
  }
  co_return decision;
}

void AccessControl::notify(boost::asio::any_io_executor executor, AccessRequest request) {
  const auto& url = hook(request.action);
  if (!url) return;
  // hooks_ lives as long as this object (the process).
  boost::asio::co_spawn(executor, call_hook(*url, std::move(request), false),
                        boost::asio::detached);
}

std::string client_ip(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  }
  return address.to_string();
}

std::string next_session_id() {
  static std::atomic<uint64_t> next{1};
  return "s" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace cascade::access
