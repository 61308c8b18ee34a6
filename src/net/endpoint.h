// Parsing "ADDR:PORT" listen addresses ("0.0.0.0:1935", "[::1]:8080", ":8080").
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cascade::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace cascade::net
