#include "app/drain.h"

#include <fmt/format.h>

#include <algorithm>

namespace cascade::app {

bool DrainState::begin(int64_t now_ms, uint32_t timeout_s, std::string reason) {
  std::lock_guard lock(mutex_);
  if (draining_) return false;
  draining_ = true;
  started_ms_ = now_ms;
  timeout_s_ = timeout_s;
  reason_ = std::move(reason);
  return true;
}

bool DrainState::draining() const {
  std::lock_guard lock(mutex_);
  return draining_;
}

bool DrainState::deadline_passed(int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  return draining_ && now_ms - started_ms_ >= int64_t{timeout_s_} * 1000;
}

DrainProgress DrainState::progress(int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  DrainProgress out;
  out.draining = draining_;
  if (!draining_) return out;
  out.reason = reason_;
  out.timeout_s = timeout_s_;
  out.elapsed_ms = std::max<int64_t>(0, now_ms - started_ms_);
  out.remaining_ms = std::max<int64_t>(0, int64_t{timeout_s_} * 1000 - out.elapsed_ms);
  return out;
}

std::string describe_sessions(const SessionTotals& totals) {
  const int64_t total = totals.total();
  if (total == 0) return "no sessions left";
  std::string kinds;
  for (size_t i = 0; i < kSessionKinds; ++i) {
    if (totals.by_kind[i] == 0) continue;
    if (!kinds.empty()) kinds += ", ";
    kinds +=
        fmt::format("{} {}", session_kind_name(static_cast<SessionKind>(i)), totals.by_kind[i]);
  }
  return fmt::format("{} session{} left ({})", total, total == 1 ? "" : "s", kinds);
}

}  // namespace cascade::app
