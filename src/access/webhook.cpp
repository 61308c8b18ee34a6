#include "access/webhook.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>

#include "core/percent_encoding.h"
#include "core/query_string.h"

namespace cascade::access {

namespace http = boost::beast::http;
using boost::asio::awaitable;
using boost::asio::use_awaitable;

Result<WebhookUrl> parse_webhook_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return make_error("'{}' is not an http:// URL", url);
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      return make_error("'{}' contains a space or control character", url);
    }
  }
  WebhookUrl out;
  out.text = std::string(url);
  std::string_view rest = url.substr(kScheme.size());
  const size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  out.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return make_error("'{}': credentials in the URL are not supported", url);
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("'{}': unclosed '['", url);
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("'{}': bad authority", url);
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return make_error("'{}' has no host", url);
  if (port.empty()) port = "80";
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
    return make_error("'{}' has a bad port", url);
  }
  out.port = std::string(port);
  return out;
}

std::string webhook_body(const AccessRequest& request) {
  boost::json::object params;
  // tcUrl parameters first, so the stream's own replace them.
  for (std::string_view query :
       {std::string_view(request.connect_query), std::string_view(request.query)}) {
    while (auto p = next_query_parameter(query)) {
      if (p->name.empty() || p->name.starts_with("_HLS_")) continue;
      std::string name, value;
      if (!percent_decode(p->name, name)) continue;
      if (!percent_decode(p->value, value)) value = std::string(p->value);
      params[name] = value;
    }
  }
  boost::json::object body;
  body["action"] = to_string(request.action);
  body["app"] = request.app;
  body["stream"] = request.stream;
  body["protocol"] = to_string(request.protocol);
  body["client_ip"] = request.client_ip;
  body["query"] = request.query.empty() ? request.connect_query : request.query;
  body["params"] = std::move(params);
  body["session_id"] = request.session_id;
  return boost::json::serialize(body);
}

awaitable<Result<WebhookResponse>> post_webhook(const WebhookUrl& url, std::string body,
                                                uint32_t timeout_ms) {
  auto executor = co_await boost::asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  boost::system::error_code ec;
  // Name resolution runs on Asio's resolver thread; the deadline covers it
  // too (the timer cancels it). The handler only touches the resolver when
  // the timer fired, which is before this frame ends.
  boost::asio::ip::tcp::resolver resolver(executor);
  boost::asio::steady_timer resolve_deadline(executor, deadline);
  resolve_deadline.async_wait([&resolver](boost::system::error_code timer_ec) {
    if (!timer_ec) resolver.cancel();
  });
  auto endpoints = co_await resolver.async_resolve(url.host, url.port,
                                                   boost::asio::redirect_error(use_awaitable, ec));
  resolve_deadline.cancel();
  if (ec == boost::asio::error::operation_aborted) {
    co_return make_error("cannot resolve {} within {} ms", url.host, timeout_ms);
  }
  if (ec) co_return make_error("cannot resolve {}: {}", url.host, ec.message());
  boost::beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  co_await stream.async_connect(endpoints, boost::asio::redirect_error(use_awaitable, ec));
  if (ec) co_return make_error("cannot connect to {}: {}", url.text, ec.message());

  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host + ":" + url.port);
  request.set(http::field::user_agent, "cascade");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::connection, "close");
  request.body() = std::move(body);
  request.prepare_payload();
  co_await http::async_write(stream, request, boost::asio::redirect_error(use_awaitable, ec));
  if (ec) co_return make_error("cannot send to {}: {}", url.text, ec.message());

  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  co_await http::async_read(stream, buffer, parser, boost::asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == boost::beast::error::timeout) {
      co_return make_error("{} did not answer within {} ms", url.text, timeout_ms);
    }
    co_return make_error("no valid answer from {}: {}", url.text, ec.message());
  }
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  auto& response = parser.get();
  WebhookResponse out;
  out.status = response.result_int();
  out.location = std::string(response[http::field::location]);
  out.body = std::move(response.body());
  co_return out;
}

namespace {

// A URL safe to put in a Location header and an RTMP status: printable
// ASCII, no spaces, bounded.
bool valid_redirect(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  for (char c : url) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

std::string json_string(const boost::json::value* value, std::string_view name) {
  if (!value || !value->is_object()) return {};
  const boost::json::value* field = value->as_object().if_contains(name);
  if (!field || !field->is_string()) return {};
  return std::string(field->as_string());
}

}  // namespace

AccessDecision decision_from_webhook(const Result<WebhookResponse>& response) {
  if (!response) return AccessDecision::deny("webhook failed: " + response.error().message);
  const unsigned status = response->status;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(response->body, ec);
  const boost::json::value* parsed = ec ? nullptr : &json;
  std::string redirect = json_string(parsed, "redirect");
  if (status >= 300 && status < 400 && redirect.empty()) redirect = response->location;
  if (status >= 200 && status < 400 && !redirect.empty()) {
    if (!valid_redirect(redirect))
      return AccessDecision::deny("webhook answered an invalid redirect");
    return AccessDecision::redirect(std::move(redirect));
  }
  if (status >= 200 && status < 300) return AccessDecision::allow();
  std::string reason = json_string(parsed, "reason");
  // The hook's reason goes to the client: keep it printable and short.
  if (reason.size() > 200) reason.resize(200);
  for (char& c : reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  if (reason.empty())
    return AccessDecision::deny(fmt::format("denied by webhook (HTTP {})", status));
  return AccessDecision::deny(fmt::format("denied by webhook (HTTP {}): {}", status, reason));
}

}  // namespace cascade::access
