#include "servers/api/admin_route.h"

#include <boost/json.hpp>

#include "core/log.h"
#include "core/percent_encoding.h"
#include "core/query_string.h"
#include "core/session_counts.h"
#include "servers/api/admin_auth.h"

namespace cascade::servers {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

constexpr std::string_view kPrefix = "/api/v1/admin/";

boost::json::object stats_json(live::Hub& hub, const AdminControl& control) {
  boost::json::array streams;
  for (const auto& s : hub.stats()) {
    streams.push_back(boost::json::object{{"key", s.key},
                                          {"publishing", s.publishing},
                                          {"viewers", s.viewers},
                                          {"frames_in", s.frames_in},
                                          {"bytes_in", s.bytes_in},
                                          {"publisher_sessions", s.publisher_sessions},
                                          {"uptime_ms", s.uptime_ms}});
  }
  return {{"sessions", session_totals_json()},
          {"streams", std::move(streams)},
          {"drain", control.drain_state()}};
}

awaitable<net::HttpOutcome> send_json(net::HttpConnection& connection,
                                      const net::HttpRequest& request, http::status status,
                                      const boost::json::object& body) {
  auto res =
      connection.response(request, status, "application/json", boost::json::serialize(body) + "\n");
  res.set(http::field::cache_control, "no-store");
  co_await connection.send(std::move(res));
  co_return net::HttpOutcome::kResponded;
}

awaitable<net::HttpOutcome> refuse(net::HttpConnection& connection, const net::HttpRequest& request,
                                   AdminAccess access) {
  static const char* const kReasons[] = {"", "admin endpoints are disabled (no [admin] token)",
                                         "missing bearer token", "wrong bearer token"};
  const char* reason = kReasons[static_cast<int>(access)];
  log::get("admin").warn("[{}] {} {} refused: {}", connection.peer(),
                         std::string(request.method_string()), std::string(request.target()),
                         reason);
  const bool disabled = access == AdminAccess::kDisabled;
  auto res =
      connection.response(request, disabled ? http::status::forbidden : http::status::unauthorized,
                          "text/plain", std::string(reason) + "\n");
  // RFC 6750 3: a 401 names the scheme; error="invalid_token" for a wrong one.
  if (!disabled) {
    res.set(http::field::www_authenticate, access == AdminAccess::kWrong
                                               ? "Bearer realm=\"cascade-admin\", "
                                                 "error=\"invalid_token\""
                                               : "Bearer realm=\"cascade-admin\"");
  }
  res.set(http::field::cache_control, "no-store");
  co_await connection.send(std::move(res));
  co_return net::HttpOutcome::kResponded;
}

}  // namespace

boost::json::object session_totals_json() {
  const SessionTotals totals = SessionCounts::global().totals();
  boost::json::object out;
  for (size_t i = 0; i < kSessionKinds; ++i) {
    out[session_kind_name(static_cast<SessionKind>(i))] = totals.by_kind[i];
  }
  out["total"] = totals.total();
  return out;
}

net::HttpRoute make_admin_route(AdminControl& control, live::Hub& hub, std::string token) {
  return [&control, &hub, token = std::move(token)](
             net::HttpConnection& connection,
             net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    std::string_view target = request.target();
    const size_t query_at = target.find('?');
    const std::string_view path = target.substr(0, query_at);
    const std::string_view query =
        query_at == std::string_view::npos ? std::string_view{} : target.substr(query_at + 1);
    if (!path.starts_with(kPrefix)) co_return net::HttpOutcome::kNotMine;
    const std::string_view name = path.substr(kPrefix.size());

    const AdminAccess access = check_admin_access(token, request[http::field::authorization]);
    if (access != AdminAccess::kAllowed) co_return co_await refuse(connection, request, access);

    const bool get = request.method() == http::verb::get;
    const bool post = request.method() == http::verb::post;
    boost::json::object body;
    http::status status = http::status::ok;
    if (name == "stats" && get) {
      body = stats_json(hub, control);
    } else if (name == "drain" && get) {
      body = control.drain_state();
    } else if (name == "drain" && post) {
      log::get("admin").info("[{}] drain requested", connection.peer());
      body = control.begin_drain();
    } else if (name == "reload" && post) {
      log::get("admin").info("[{}] reload requested", connection.peer());
      body = control.reload();
      if (!body["applied"].as_bool()) status = http::status::unprocessable_entity;
    } else if (name == "kick" && post) {
      std::string stream;
      if (!percent_decode(query_value(query, "stream").value_or(""), stream)) stream.clear();
      if (stream.empty()) {
        status = http::status::bad_request;
        body = {{"error", "missing ?stream=app/name"}};
      } else if (hub.stop_publisher(stream)) {
        log::get("admin").info("[{}] kicked the publisher of {}", connection.peer(), stream);
        body = {{"kicked", true}, {"stream", stream}};
      } else {
        status = http::status::not_found;
        body = {{"kicked", false}, {"stream", stream}, {"error", "nobody publishes it"}};
      }
    } else if (name == "stats" || name == "drain" || name == "reload" || name == "kick") {
      status = http::status::method_not_allowed;
      body = {{"error", "method not allowed"}};
    } else {
      status = http::status::not_found;
      body = {{"error", "no such admin endpoint"}};
    }
    co_return co_await send_json(connection, request, status, body);
  };
}

}  // namespace cascade::servers
