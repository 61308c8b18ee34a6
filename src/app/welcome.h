// The start-up text: how to publish to this server and where to watch.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>

namespace cascade::app {

std::string welcome_text(const std::optional<boost::asio::ip::tcp::endpoint>& rtmp,
                         const std::optional<boost::asio::ip::tcp::endpoint>& http);

}  // namespace cascade::app
