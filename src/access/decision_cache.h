// DecisionCache: webhook answers for (action, app, stream, client ip,
// params), kept for a TTL and bounded in entries (least recently used goes
// first). One per worker: no locks, touched only on its worker's thread.
// Time is passed in (steady milliseconds), so tests use a fake clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "access/access_request.h"

namespace cascade::access {

class DecisionCache {
 public:
  DecisionCache(size_t max_entries, int64_t ttl_ms) : max_entries_(max_entries), ttl_ms_(ttl_ms) {}

  // The cached decision for `key`, or nullptr (absent or expired; an
  // expired entry is dropped). The pointer is valid until the next insert.
  const AccessDecision* find(const std::string& key, int64_t now_ms);
  // Stores (or replaces) `key`'s decision until now_ms + ttl. No-op when
  // the cache is disabled (ttl or size 0).
  void insert(const std::string& key, AccessDecision decision, int64_t now_ms);
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    AccessDecision decision;
    int64_t expires_ms;
  };
  size_t max_entries_;
  int64_t ttl_ms_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace cascade::access
