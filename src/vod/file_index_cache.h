// FileIndexCache<Index>: what was parsed out of a file (an MP4 sample index,
// an FLV keyframe index, ...), kept by the file's identity (device, inode,
// size, mtime), so a seek never parses the same file twice; a changed file
// has a new identity and is parsed again. Bounded by the indexes' memory
// (Index::memory_bytes()), least recently used dropped first; an index larger
// than the whole budget is returned but not kept. Failures are cached too
// (the error, charged kFailureBytes plus its message to the budget): a broken
// or hostile file is parsed once per version, not once per request, so
// asking for it again and again costs no more than asking for a good one. A
// failure is kept for kFailureTtl only: a read error may be passing.
//
// Thread-safe: one mutex, taken per lookup, not held while building, so two
// requests missing at once may both build (the first one stored wins).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/metrics.h"
#include "core/result.h"
#include "vod/vod_path.h"

namespace cascade::vod {

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0;  // nanoseconds: a rewrite within a second is a change
  bool operator==(const FileIdentity&) const = default;
};

inline FileIdentity identity_of(const OpenedFile& file) {
  return {file.device, file.inode, file.size, file.mtime_ns};
}

struct FileIdentityHash {
  size_t operator()(const FileIdentity& id) const {
    return std::hash<uint64_t>()(id.inode * 1'000'003 ^ id.device ^ id.size * 31 ^
                                 static_cast<uint64_t>(id.mtime_ns));
  }
};

template <typename Index>
class FileIndexCache {
 public:
  // What one cached failure costs, besides its message, and how long it is kept.
  static constexpr size_t kFailureBytes = 256;
  static constexpr std::chrono::seconds kFailureTtl{60};

  // Hits and misses are counted in the two named process-wide counters.
  FileIndexCache(size_t max_bytes, std::string_view hits_metric, std::string_view misses_metric)
      : max_bytes_(max_bytes),
        hits_(Metrics::global().counter(hits_metric)),
        misses_(Metrics::global().counter(misses_metric)) {}

  // The index of the file `id`: cached, or `build()` (returning
  // Result<Index>) called now on the calling thread and its result kept.
  template <typename Build>
  Result<std::shared_ptr<const Index>> get(const FileIdentity& id, Build&& build) {
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(id);
      if (it != entries_.end() && !kept(it->second)) {
        bytes_ -= it->second.bytes;
        lru_.erase(it->second.lru);
        entries_.erase(it);
        it = entries_.end();
      }
      if (it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        hits_.inc();
        if (!it->second.index) return it->second.failure;
        return it->second.index;
      }
    }
    misses_.inc();
    Result<Index> built = std::forward<Build>(build)();
    if (!built) {
      keep(id, Entry{nullptr, built.error(), std::chrono::steady_clock::now() + kFailureTtl,
                     kFailureBytes + built.error().message.size(), {}});
      return built.error();
    }
    auto shared = std::make_shared<const Index>(std::move(built.value()));
    const size_t size = shared->memory_bytes();
    keep(id, Entry{shared, {}, {}, size, {}});
    return std::shared_ptr<const Index>(std::move(shared));
  }

  // Whether `id` has a kept entry (an index or an unexpired failure), without
  // counting a hit or touching the LRU order: get() will not build it.
  bool contains(const FileIdentity& id) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    return it != entries_.end() && kept(it->second);
  }

  // Bytes held by the kept indexes and failures.
  size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  size_t entries() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::shared_ptr<const Index> index;  // null: `failure` is what building gave
    Error failure;
    std::chrono::steady_clock::time_point failure_expires;
    size_t bytes = 0;
    std::list<FileIdentity>::iterator lru;
  };

  // An index stays until evicted; a failure until it expires.
  static bool kept(const Entry& entry) {
    return entry.index || std::chrono::steady_clock::now() < entry.failure_expires;
  }

  // Stores `entry` unless `id` is already kept or it exceeds the budget;
  // then evicts the least recently used down to the budget.
  void keep(const FileIdentity& id, Entry entry) {
    std::lock_guard lock(mutex_);
    if (entries_.count(id) != 0 || entry.bytes > max_bytes_) return;
    lru_.push_front(id);
    entry.lru = lru_.begin();
    bytes_ += entry.bytes;
    entries_.emplace(id, std::move(entry));
    while (bytes_ > max_bytes_) {
      auto victim = entries_.find(lru_.back());
      bytes_ -= victim->second.bytes;
      entries_.erase(victim);
      lru_.pop_back();
    }
  }

  const size_t max_bytes_;
  Counter& hits_;
  Counter& misses_;
  mutable std::mutex mutex_;
  std::unordered_map<FileIdentity, Entry, FileIdentityHash> entries_;
  std::list<FileIdentity> lru_;  // most recent first
  size_t bytes_ = 0;
};

}  // namespace cascade::vod
