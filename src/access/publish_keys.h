// Publish stream keys per app (config [access] publish_keys). An app with
// keys accepts a publisher only with one of them as the `key` query
// parameter, on the stream name (OBS "demo?key=k1", ffmpeg
// rtmp://h/live/demo?key=k1) or on the tcUrl / connect app
// (rtmp://h/live?key=k1). An app without keys stays open.
//
// Immutable after construction; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "access/access_request.h"

namespace cascade::access {

using PublishKeyTable = std::map<std::string, std::vector<std::string>, std::less<>>;

class PublishKeys {
 public:
  PublishKeys() = default;
  explicit PublishKeys(PublishKeyTable keys) : keys_(std::move(keys)) {}

  // True when publishing to `app` needs a key.
  bool guards(std::string_view app) const { return keys_.find(app) != keys_.end(); }
  bool empty() const { return keys_.empty(); }

  // Allow, or deny with a reason for the client ("missing" / "wrong").
  // Keys are compared in constant time per key (CRYPTO_memcmp).
  AccessDecision check(const AccessRequest& request) const;

 private:
  PublishKeyTable keys_;
};

}  // namespace cascade::access
