#include "access/decision_cache.h"

namespace cascade::access {

const AccessDecision* DecisionCache::find(const std::string& key, int64_t now_ms) {
  auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  auto entry = found->second;
  if (now_ms >= entry->expires_ms) {
    entries_.erase(entry);
    index_.erase(found);
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, entry);
  return &entry->decision;
}

void DecisionCache::insert(const std::string& key, AccessDecision decision, int64_t now_ms) {
  if (max_entries_ == 0 || ttl_ms_ <= 0) return;
  if (auto found = index_.find(key); found != index_.end()) {
    found->second->decision = std::move(decision);
    found->second->expires_ms = now_ms + ttl_ms_;
    entries_.splice(entries_.begin(), entries_, found->second);
    return;
  }
  while (index_.size() >= max_entries_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  entries_.push_front(Entry{key, std::move(decision), now_ms + ttl_ms_});
  index_.emplace(key, entries_.begin());
}

}  // namespace cascade::access
