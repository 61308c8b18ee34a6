// How an HTTP route (HTTP-FLV, HLS) answers a refused play: 403 with the
// reason as text, or 302 with Location for a redirect. Never cached.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "access/access_request.h"
#include "net/http_server.h"

namespace cascade::access {

boost::asio::awaitable<void> send_http_refusal(net::HttpConnection& connection,
                                               const net::HttpRequest& request,
                                               const AccessDecision& decision);

// An AccessRequest for an HTTP play of app/stream: the client's address,
// the target's query, the connection's worker.
AccessRequest http_play_request(net::HttpConnection& connection, AccessProtocol protocol,
                                std::string app, std::string stream, std::string_view target);

}  // namespace cascade::access
