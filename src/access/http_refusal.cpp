#include "access/http_refusal.h"

#include "access/access_control.h"

namespace cascade::access {

namespace http = net::http;

boost::asio::awaitable<void> send_http_refusal(net::HttpConnection& connection,
                                               const net::HttpRequest& request,
                                               const AccessDecision& decision) {
  if (decision.kind == AccessDecision::Kind::kRedirect) {
    auto response = connection.response(request, http::status::found, "text/plain",
                                        decision.redirect_url + "\n");
    response.set(http::field::location, decision.redirect_url);
    response.set(http::field::cache_control, "no-store");
    co_await connection.send(std::move(response));
    co_return;
  }
  const std::string text = "forbidden: " + decision.reason + "\n";
  co_await connection.send_text(request, http::status::forbidden, text, "no-store");
}

AccessRequest http_play_request(net::HttpConnection& connection, AccessProtocol protocol,
                                std::string app, std::string stream, std::string_view target) {
  AccessRequest request;
  request.action = AccessAction::kPlay;
  request.protocol = protocol;
  request.app = std::move(app);
  request.stream = std::move(stream);
  request.client_ip = client_ip(connection.socket());
  const size_t question = target.find('?');
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.worker = connection.worker();
  return request;
}

}  // namespace cascade::access
