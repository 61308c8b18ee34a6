#include "access/decision_cache.h"

#include <gtest/gtest.h>

namespace cascade::access {
namespace {

TEST(DecisionCache, HitUntilTheTtlThenMiss) {
  DecisionCache cache(10, 1000);
  EXPECT_EQ(cache.find("a", 0), nullptr);
  cache.insert("a", AccessDecision::deny("no"), 100);
  ASSERT_NE(cache.find("a", 1099), nullptr);
  EXPECT_EQ(cache.find("a", 1099)->reason, "no");
  EXPECT_EQ(cache.find("a", 1100), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DecisionCache, BoundedLeastRecentlyUsedFirst) {
  DecisionCache cache(2, 1000);
  cache.insert("a", AccessDecision::allow(), 0);
  cache.insert("b", AccessDecision::allow(), 0);
  ASSERT_NE(cache.find("a", 1), nullptr);  // b is now the oldest
  cache.insert("c", AccessDecision::redirect("rtmp://x/y"), 1);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b", 2), nullptr);
  EXPECT_NE(cache.find("a", 2), nullptr);
  ASSERT_NE(cache.find("c", 2), nullptr);
  EXPECT_EQ(cache.find("c", 2)->redirect_url, "rtmp://x/y");
}

TEST(DecisionCache, ReinsertRefreshes) {
  DecisionCache cache(2, 1000);
  cache.insert("a", AccessDecision::allow(), 0);
  cache.insert("a", AccessDecision::deny("x"), 900);
  ASSERT_NE(cache.find("a", 1500), nullptr);
  EXPECT_FALSE(cache.find("a", 1500)->allowed());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(DecisionCache, DisabledByZeroTtlOrSize) {
  DecisionCache no_ttl(10, 0), no_room(0, 1000);
  no_ttl.insert("a", AccessDecision::allow(), 0);
  no_room.insert("a", AccessDecision::allow(), 0);
  EXPECT_EQ(no_ttl.find("a", 0), nullptr);
  EXPECT_EQ(no_room.find("a", 0), nullptr);
}

}  // namespace
}  // namespace cascade::access
