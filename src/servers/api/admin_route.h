// Operator endpoints under /api/v1/admin/, behind the [admin] bearer token
// (admin_auth.h):
//   POST /api/v1/admin/reload       reload the config file (as SIGHUP)
//   POST /api/v1/admin/drain        start draining (as SIGTERM)
//   GET  /api/v1/admin/drain        drain progress
//   POST /api/v1/admin/kick?stream=app/name   disconnect the stream's publisher
//   GET  /api/v1/admin/stats        sessions by kind, streams, drain state
// Answers are JSON. No token configured: 403; a missing or wrong token: 401
// (RFC 6750 3.1), each refusal logged once with the peer.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "live/hub.h"
#include "net/http_server.h"

namespace cascade::servers {

// What the admin endpoints act on; implemented by the composition root.
// Called on HTTP workers: implementations are thread-safe.
class AdminControl {
 public:
  virtual ~AdminControl() = default;
  // Reloads and applies the config file; {"applied": bool, "error": ...,
  // "changed": [...], "needs_restart": [...]}.
  virtual boost::json::object reload() = 0;
  // Starts draining (no-op when already draining); returns drain_state().
  virtual boost::json::object begin_drain() = 0;
  // {"draining": bool, "elapsed_s", "remaining_s", "sessions": {...}, ...}
  virtual boost::json::object drain_state() const = 0;
};

// Open sessions by kind (SessionCounts), with "total".
boost::json::object session_totals_json();

// `token`: the [admin] token of the config snapshot this route belongs to
// (the route is rebuilt on reload).
net::HttpRoute make_admin_route(AdminControl& control, live::Hub& hub, std::string token);

}  // namespace cascade::servers
