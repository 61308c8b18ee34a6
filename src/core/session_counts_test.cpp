#include "core/session_counts.h"

#include <gtest/gtest.h>

namespace cascade {
namespace {

TEST(SessionCounts, CountsFollowASessionAcrossKinds) {
  const SessionTotals before = SessionCounts::global().totals();
  {
    SessionCount rtmp(SessionKind::kRtmpOther);
    SessionCount http(SessionKind::kHttp);
    SessionTotals now = SessionCounts::global().totals();
    EXPECT_EQ(now[SessionKind::kRtmpOther], before[SessionKind::kRtmpOther] + 1);
    EXPECT_EQ(now.total(), before.total() + 2);
    rtmp.set_kind(SessionKind::kRtmpPublisher);
    rtmp.set_kind(SessionKind::kRtmpPublisher);  // no double count
    now = SessionCounts::global().totals();
    EXPECT_EQ(now[SessionKind::kRtmpOther], before[SessionKind::kRtmpOther]);
    EXPECT_EQ(now[SessionKind::kRtmpPublisher], before[SessionKind::kRtmpPublisher] + 1);
    EXPECT_EQ(now.total(), before.total() + 2);
  }
  EXPECT_EQ(SessionCounts::global().totals().by_kind, before.by_kind);
}

TEST(SessionCounts, KindNamesAreDistinct) {
  EXPECT_EQ(session_kind_name(SessionKind::kRtmpPublisher), "rtmp_publisher");
  EXPECT_EQ(session_kind_name(SessionKind::kHttpFlvViewer), "http_flv_viewer");
}

}  // namespace
}  // namespace cascade
