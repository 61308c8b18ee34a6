#include "app/drain.h"

#include <gtest/gtest.h>

namespace cascade::app {
namespace {

TEST(DrainState, BeginsOnceAndCountsDownToTheDeadline) {
  DrainState drain;
  EXPECT_FALSE(drain.draining());
  EXPECT_FALSE(drain.deadline_passed(1'000'000));
  EXPECT_FALSE(drain.progress(0).draining);
  ASSERT_TRUE(drain.begin(10'000, 30, "signal 15"));
  EXPECT_FALSE(drain.begin(12'000, 1, "admin API"));  // the first deadline stands
  EXPECT_TRUE(drain.draining());
  const DrainProgress p = drain.progress(12'500);
  EXPECT_TRUE(p.draining);
  EXPECT_EQ(p.reason, "signal 15");
  EXPECT_EQ(p.elapsed_ms, 2'500);
  EXPECT_EQ(p.remaining_ms, 27'500);
  EXPECT_FALSE(drain.deadline_passed(39'999));
  EXPECT_TRUE(drain.deadline_passed(40'000));
  EXPECT_EQ(drain.progress(90'000).remaining_ms, 0);
}

TEST(DrainState, ZeroTimeoutEndsAtOnce) {
  DrainState drain;
  drain.begin(5, 0, "signal 2");
  EXPECT_TRUE(drain.deadline_passed(5));
}

TEST(DrainState, DescribesOnlyKindsWithSessions) {
  SessionTotals totals;
  EXPECT_EQ(describe_sessions(totals), "no sessions left");
  totals.by_kind[static_cast<size_t>(SessionKind::kRtmpViewer)] = 2;
  EXPECT_EQ(describe_sessions(totals), "2 sessions left (rtmp_viewer 2)");
  totals.by_kind[static_cast<size_t>(SessionKind::kRtmpPublisher)] = 1;
  totals.by_kind[static_cast<size_t>(SessionKind::kHttp)] = 1;
  EXPECT_EQ(describe_sessions(totals), "4 sessions left (rtmp_publisher 1, rtmp_viewer 2, http 1)");
}

}  // namespace
}  // namespace cascade::app
