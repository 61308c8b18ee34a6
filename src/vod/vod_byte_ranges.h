// Answers with the whole file or the byte range asked for (RFC 9110 14:
// Range, If-Range, 206, 416), the body sent by sendfile.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "vod/vod_file_request.h"

namespace cascade::vod {

boost::asio::awaitable<net::HttpOutcome> answer_whole_or_range(VodFileRequest& r);

}  // namespace cascade::vod
