// The HTTP side of directory listings (a root with list_directories on):
// GET/HEAD {prefix}{dir}/ answers the listing page (directory_listing.h),
// and a directory asked for without its trailing '/' is redirected to it, so
// the page's relative links resolve inside the directory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "net/http_server.h"
#include "vod/vod_settings.h"

namespace cascade::vod {

// `url_path` starts with settings.prefix and ends with '/'. 200 with the
// page (Cache-Control: no-cache), 400 for a bad path, 404 for a missing one
// or a file, 403 for one leaving the root (logged).
boost::asio::awaitable<net::HttpOutcome> answer_directory_listing(net::HttpConnection& connection,
                                                                  net::HttpRequest& request,
                                                                  int root_fd,
                                                                  const VodSettings& settings,
                                                                  std::string_view url_path);

// 301 to `url_path` + "/" (RFC 9110 15.4.2).
boost::asio::awaitable<net::HttpOutcome> redirect_to_directory(net::HttpConnection& connection,
                                                               net::HttpRequest& request,
                                                               std::string_view url_path);

}  // namespace cascade::vod
