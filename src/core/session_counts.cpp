#include "core/session_counts.h"

#include <fmt/format.h>

#include "core/metrics.h"

namespace cascade {

std::string_view session_kind_name(SessionKind kind) {
  switch (kind) {
    case SessionKind::kRtmpPublisher:
      return "rtmp_publisher";
    case SessionKind::kRtmpViewer:
      return "rtmp_viewer";
    case SessionKind::kRtmpOther:
      return "rtmp_other";
    case SessionKind::kHttp:
      return "http";
    case SessionKind::kHttpFlvViewer:
      return "http_flv_viewer";
  }
  return "unknown";
}

int64_t SessionTotals::total() const {
  int64_t sum = 0;
  for (int64_t n : by_kind) sum += n;
  return sum;
}

SessionCounts& SessionCounts::global() {
  static SessionCounts counts;
  return counts;
}

SessionCounts::SessionCounts() {
  for (size_t i = 0; i < kSessionKinds; ++i) {
    gauges_[i] = &Metrics::global().gauge(fmt::format(
        "cascade_sessions{{kind=\"{}\"}}", session_kind_name(static_cast<SessionKind>(i))));
  }
}

void SessionCounts::add(SessionKind kind) {
  gauges_[static_cast<size_t>(kind)]->add(1);
}
void SessionCounts::sub(SessionKind kind) {
  gauges_[static_cast<size_t>(kind)]->sub(1);
}

SessionTotals SessionCounts::totals() const {
  SessionTotals out;
  for (size_t i = 0; i < kSessionKinds; ++i) out.by_kind[i] = gauges_[i]->value();
  return out;
}

}  // namespace cascade
