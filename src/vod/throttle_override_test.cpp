#include "vod/throttle_override.h"

#include <gtest/gtest.h>

#include <string>

#include "core/url_signature.h"
#include "media/test_corpus.h"

namespace cascade::vod {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef-secret";
constexpr int64_t kNow = 1'700'000'000;

// Each case is also a seed of fuzz/throttle_override_fuzz.cpp.
void save_seed(std::string_view name, std::string_view path, std::string_view query) {
  const std::string input = std::string(path) + "\n" + std::string(query);
  media::testing::save_seed("throttle_override", name, media::testing::text(input));
}

std::string signed_query(std::string_view path, std::string_view rate, std::string_view expires,
                         std::string_view secret = kSecret) {
  return fmt::format("rate={}&expires={}&sig={}", rate, expires,
                     sign_message(secret, throttle_override_message(path, rate, expires)));
}

TEST(ThrottleOverride, NoneAskedIsNone) {
  for (std::string_view query : {"", "start=3&end=5", "rates=2", "x=1&exact=1"}) {
    save_seed("none_" + std::to_string(query.size()), "/vod/a.mp4", query);
    auto result = verify_throttle_override("/vod/a.mp4", query, kSecret, kNow);
    ASSERT_TRUE(result) << query;
    EXPECT_FALSE(*result) << query;
    // Also without a secret: nothing was asked.
    EXPECT_TRUE(verify_throttle_override("/vod/a.mp4", query, "", kNow)) << query;
  }
}

TEST(ThrottleOverride, AValidSignatureGivesTheRate) {
  const std::string query = signed_query("/vod/a%20b.mp4", "2.5", "1700000100");
  save_seed("valid", "/vod/a%20b.mp4", query);
  auto result = verify_throttle_override("/vod/a%20b.mp4", query, kSecret, kNow);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(**result, 2.5);
  // Unthrottled, with other parameters around it, until the second it expires.
  const std::string zero = "start=1&" + signed_query("/vod/a.mp4", "0", "1700000000") + "&end=4";
  result = verify_throttle_override("/vod/a.mp4", zero, kSecret, kNow);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(**result, 0.0);
}

struct Refused {
  const char* name;
  std::string query;
  std::string_view secret;
  const char* message_part;
};

class ThrottleOverrideRefused : public ::testing::TestWithParam<Refused> {};

TEST_P(ThrottleOverrideRefused, WithAClearMessage) {
  save_seed(GetParam().name, "/vod/a.mp4", GetParam().query);
  auto result = verify_throttle_override("/vod/a.mp4", GetParam().query, GetParam().secret, kNow);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(GetParam().message_part), std::string::npos)
      << result.error().message;
}

const std::string kGood = signed_query("/vod/a.mp4", "2", "1700000100");

INSTANTIATE_TEST_SUITE_P(
    Vod, ThrottleOverrideRefused,
    ::testing::Values(
        Refused{"no_secret", kGood, "", "not enabled"},
        Refused{"unsigned", "rate=0", kSecret, "needs rate, expires and sig"},
        Refused{"no_expiry", "rate=0&sig=00", kSecret, "needs rate, expires and sig"},
        Refused{"sig_only", "sig=00", kSecret, "needs rate, expires and sig"},
        Refused{"expired", signed_query("/vod/a.mp4", "2", "1699999999"), kSecret, "expired"},
        Refused{"other_path", signed_query("/vod/b.mp4", "2", "1700000100"), kSecret,
                "bad signature"},
        Refused{"other_secret",
                signed_query("/vod/a.mp4", "2", "1700000100", "another secret, 24 chars"), kSecret,
                "bad signature"},
        Refused{"rate_changed", "rate=3" + kGood.substr(kGood.find('&')), kSecret, "bad signature"},
        Refused{"expiry_changed", "rate=2&expires=1800000000" + kGood.substr(kGood.find("&sig")),
                kSecret, "bad signature"},
        Refused{"twice", kGood + "&rate=0", kSecret, "rate given twice"},
        Refused{"negative", signed_query("/vod/a.mp4", "-1", "1700000100"), kSecret,
                "rate must be"},
        Refused{"too_fast", signed_query("/vod/a.mp4", "101", "1700000100"), kSecret,
                "rate must be"},
        Refused{"too_slow", signed_query("/vod/a.mp4", "0.01", "1700000100"), kSecret,
                "rate must be"},
        Refused{"exponent", signed_query("/vod/a.mp4", "1e1", "1700000100"), kSecret,
                "rate must be"},
        Refused{"bad_expiry", signed_query("/vod/a.mp4", "2", "soon"), kSecret, "expires must be"},
        Refused{"huge_expiry", signed_query("/vod/a.mp4", "2", "99999999999999999999"), kSecret,
                "expires must be"}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace cascade::vod
