#include "servers/api/admin_auth.h"

#include <gtest/gtest.h>

namespace cascade::servers {
namespace {

constexpr std::string_view kToken = "0123456789abcdef-secret";

TEST(AdminAuth, TokensEqualOnlyWhenIdentical) {
  EXPECT_TRUE(tokens_equal("abc", "abc"));
  EXPECT_TRUE(tokens_equal("", ""));
  EXPECT_FALSE(tokens_equal("abc", "abd"));
  EXPECT_FALSE(tokens_equal("abc", "abcd"));  // a prefix is not a match
  EXPECT_FALSE(tokens_equal("abcd", "abc"));
  EXPECT_FALSE(tokens_equal("abc", ""));
  EXPECT_FALSE(tokens_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(AdminAuth, NoConfiguredTokenDeniesEverything) {
  EXPECT_EQ(check_admin_access("", ""), AdminAccess::kDisabled);
  EXPECT_EQ(check_admin_access("", "Bearer "), AdminAccess::kDisabled);
  EXPECT_EQ(check_admin_access("", "Bearer anything"), AdminAccess::kDisabled);
}

TEST(AdminAuth, BearerCredentialIsChecked) {
  const std::string right = "Bearer " + std::string(kToken);
  EXPECT_EQ(check_admin_access(kToken, right), AdminAccess::kAllowed);
  EXPECT_EQ(check_admin_access(kToken, "bearer  " + std::string(kToken) + " "),
            AdminAccess::kAllowed);
  EXPECT_EQ(check_admin_access(kToken, "BEARER " + std::string(kToken)), AdminAccess::kAllowed);
  EXPECT_EQ(check_admin_access(kToken, right + "x"), AdminAccess::kWrong);
  EXPECT_EQ(check_admin_access(kToken, right.substr(0, right.size() - 1)), AdminAccess::kWrong);
  EXPECT_EQ(check_admin_access(kToken, "Bearer wrong"), AdminAccess::kWrong);
}

TEST(AdminAuth, MissingOrOtherSchemesAreMissing) {
  EXPECT_EQ(check_admin_access(kToken, ""), AdminAccess::kMissing);
  EXPECT_EQ(check_admin_access(kToken, "Bearer"), AdminAccess::kMissing);
  EXPECT_EQ(check_admin_access(kToken, "Bearer    "), AdminAccess::kMissing);
  EXPECT_EQ(check_admin_access(kToken, "Basic dXNlcjpwYXNz"), AdminAccess::kMissing);
  EXPECT_EQ(check_admin_access(kToken, "Bearerx" + std::string(kToken)), AdminAccess::kMissing);
  EXPECT_EQ(check_admin_access(kToken, std::string(kToken)), AdminAccess::kMissing);
}

}  // namespace
}  // namespace cascade::servers
