// Operations endpoints: GET /api/v1/streams (live streams as JSON),
// GET /metrics (Prometheus text format), GET /healthz.
#pragma once

#include "live/hub.h"
#include "net/http_server.h"

namespace cascade::servers {

net::HttpRoute make_api_route(live::Hub& hub);

}  // namespace cascade::servers
