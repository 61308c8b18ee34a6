#include "access/access_request.h"

#include "core/query_string.h"

namespace cascade::access {

std::string_view to_string(AccessAction action) {
  switch (action) {
    case AccessAction::kConnect:
      return "connect";
    case AccessAction::kPublish:
      return "publish";
    case AccessAction::kPlay:
      return "play";
    case AccessAction::kDone:
      return "done";
  }
  return "?";
}

std::string_view to_string(AccessProtocol protocol) {
  switch (protocol) {
    case AccessProtocol::kRtmp:
      return "rtmp";
    case AccessProtocol::kHttpFlv:
      return "http-flv";
    case AccessProtocol::kHls:
      return "hls";
  }
  return "?";
}

std::string_view request_parameter(const AccessRequest& request, std::string_view name) {
  if (auto value = query_value(request.query, name)) return *value;
  if (auto value = query_value(request.connect_query, name)) return *value;
  return {};
}

}  // namespace cascade::access
