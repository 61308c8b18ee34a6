// Operations endpoints: GET /api/v1/streams (live streams as JSON),
// GET /metrics (Prometheus text format), GET /healthz ("ok", or 503
// "draining" once the server drains, so load balancers stop sending).
#pragma once

#include <functional>

#include "live/hub.h"
#include "net/http_server.h"

namespace cascade::servers {

// `draining`, if given, is asked on each /healthz (any worker).
net::HttpRoute make_api_route(live::Hub& hub, std::function<bool()> draining = {});

}  // namespace cascade::servers
