#include "core/metrics.h"

#include <gtest/gtest.h>

namespace cascade {
namespace {

TEST(Histogram, CountsEachValueInTheFirstBucketThatHoldsIt) {
  Histogram h({10, 1, 5});  // sorted on construction
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0, 10.0, 11.0, 1000.0}) h.observe(v);
  EXPECT_EQ(h.upper_bounds(), (std::vector<double>{1, 5, 10}));
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 2, 2, 2}));  // <=1, <=5, <=10, +Inf
  EXPECT_EQ(h.count(), 8u);
  EXPECT_NEAR(h.sum(), 1036.0, 1e-6);
}

TEST(Histogram, RendersCumulativeBucketsInPrometheusText) {
  Metrics metrics;
  Histogram& h = metrics.histogram("test_latency_ms", {1, 10});
  EXPECT_EQ(&metrics.histogram("test_latency_ms", {7}), &h);  // first bounds win
  h.observe(0.5);
  h.observe(3);
  h.observe(30);
  const std::string text = metrics.render_prometheus();
  EXPECT_NE(text.find("# TYPE test_latency_ms histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_ms_bucket{le=\"1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_ms_bucket{le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_ms_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_ms_sum 33.5\ntest_latency_ms_count 3\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace cascade
