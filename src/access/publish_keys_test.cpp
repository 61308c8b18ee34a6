#include "access/publish_keys.h"

#include <gtest/gtest.h>

namespace cascade::access {
namespace {

AccessRequest publish(std::string app, std::string query, std::string connect_query = {}) {
  AccessRequest r;
  r.action = AccessAction::kPublish;
  r.app = std::move(app);
  r.stream = "demo";
  r.query = std::move(query);
  r.connect_query = std::move(connect_query);
  return r;
}

TEST(PublishKeys, AppWithoutKeysIsOpen) {
  PublishKeys keys(PublishKeyTable{{"live", {"k1"}}});
  EXPECT_FALSE(keys.guards("other"));
  EXPECT_TRUE(keys.check(publish("other", "")).allowed());
  EXPECT_TRUE(PublishKeys().check(publish("live", "")).allowed());
}

TEST(PublishKeys, KeyOnStreamNameOrTcUrl) {
  PublishKeys keys(PublishKeyTable{{"live", {"k1", "second key"}}});
  EXPECT_TRUE(keys.guards("live"));
  EXPECT_TRUE(keys.check(publish("live", "key=k1")).allowed());
  EXPECT_TRUE(keys.check(publish("live", "a=b&key=second%20key")).allowed());
  EXPECT_TRUE(keys.check(publish("live", "", "key=k1")).allowed());
  // The stream name's key wins over the tcUrl's.
  EXPECT_FALSE(keys.check(publish("live", "key=bad", "key=k1")).allowed());
}

TEST(PublishKeys, WrongOrMissingKeyIsDeniedWithAReason) {
  PublishKeys keys(PublishKeyTable{{"live", {"k1"}}});
  auto missing = keys.check(publish("live", ""));
  EXPECT_EQ(missing.kind, AccessDecision::Kind::kDeny);
  EXPECT_NE(missing.reason.find("stream key is required"), std::string::npos);
  auto wrong = keys.check(publish("live", "key=k2"));
  EXPECT_EQ(wrong.kind, AccessDecision::Kind::kDeny);
  EXPECT_NE(wrong.reason.find("wrong stream key"), std::string::npos);
  for (const char* query : {"key=", "key", "key=k", "key=k11", "key=%zz", "KEY=k1", "key=k1%00"}) {
    EXPECT_FALSE(keys.check(publish("live", query)).allowed()) << query;
  }
}

}  // namespace
}  // namespace cascade::access
