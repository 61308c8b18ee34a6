#include "access/play_signature.h"

#include <gtest/gtest.h>

#include "core/url_signature.h"

namespace cascade::access {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef-secret";
constexpr int64_t kNow = 1'700'000'000;

AccessRequest play(std::string query, std::string ip = "10.0.0.7") {
  AccessRequest r;
  r.action = AccessAction::kPlay;
  r.app = "live";
  r.stream = "demo";
  r.client_ip = std::move(ip);
  r.query = std::move(query);
  return r;
}

TEST(PlaySignature, CanonicalMessageIsDocumentedBytes) {
  EXPECT_EQ(play_signature_message("live", "demo", "1700000000", ""),
            "cascade-play\nlive/demo\n1700000000\n");
  EXPECT_EQ(play_signature_message("live", "demo", "1", "::1"), "cascade-play\nlive/demo\n1\n::1");
  // The same HMAC the README's openssl one-liner prints.
  EXPECT_EQ(
      sign_play_query(kSecret, "live", "demo", 1700000000),
      "expires=1700000000&sig=" + sign_message(kSecret, "cascade-play\nlive/demo\n1700000000\n"));
}

TEST(PlaySignature, OpenWithoutSecret) {
  auto check = check_play_signature("", true, play(""), kNow);
  EXPECT_TRUE(check.decision.allowed());
  EXPECT_TRUE(check.token.empty());
}

TEST(PlaySignature, ValidSignatureAllowsAndYieldsTheToken) {
  const std::string query = sign_play_query(kSecret, "live", "demo", kNow + 60);
  auto check = check_play_signature(kSecret, true, play(query), kNow);
  EXPECT_TRUE(check.decision.allowed()) << check.decision.reason;
  EXPECT_EQ(check.token, query);
  // Other parameters and LL-HLS directives around it do not matter.
  check = check_play_signature(kSecret, true, play("_HLS_msn=3&" + query + "&x=y"), kNow);
  EXPECT_TRUE(check.decision.allowed());
  EXPECT_EQ(check.token, query);
  // On the RTMP tcUrl instead of the play name.
  AccessRequest on_tc_url = play("");
  on_tc_url.connect_query = query;
  EXPECT_TRUE(check_play_signature(kSecret, true, on_tc_url, kNow).decision.allowed());
}

TEST(PlaySignature, Refusals) {
  const std::string good = sign_play_query(kSecret, "live", "demo", kNow + 60);
  struct Case {
    std::string query;
    std::string reason;
  };
  const std::string other_stream = sign_play_query(kSecret, "live", "other", kNow + 60);
  const std::string other_secret =
      sign_play_query("another-secret-0123", "live", "demo", kNow + 60);
  const std::string expired = sign_play_query(kSecret, "live", "demo", kNow - 1);
  std::string tampered = good;
  tampered.replace(tampered.find("expires=") + 8, 10, std::to_string(kNow + 999));
  for (const Case& c : std::vector<Case>{
           {"", "required"},
           {"expires=1800000000", "required"},
           {other_stream, "bad signature"},
           {other_secret, "bad signature"},
           {tampered, "bad signature"},
           {expired, "expired"},
           {"sig=" + std::string(64, 'a'), "expires"},
           {"expires=-1&sig=" + std::string(64, 'a'), "expires"},
           {"expires=12345678901234567890&sig=" + std::string(64, 'a'), "expires"},
           {good + "&ip=2", "ip parameter"},
           {good.substr(0, good.size() - 1), "bad signature"},
           {good.substr(0, good.size() - 1) + "g", "bad signature"},
       }) {
    auto check = check_play_signature(kSecret, true, play(c.query), kNow);
    EXPECT_EQ(check.decision.kind, AccessDecision::Kind::kDeny) << c.query;
    EXPECT_NE(check.decision.reason.find(c.reason), std::string::npos)
        << c.query << ": " << check.decision.reason;
    EXPECT_TRUE(check.token.empty());
  }
}

TEST(PlaySignature, NotRequiredAllowsUnsignedButStillChecksASignature) {
  EXPECT_TRUE(check_play_signature(kSecret, false, play("a=b"), kNow).decision.allowed());
  EXPECT_FALSE(
      check_play_signature(kSecret, false, play("expires=1&sig=00"), kNow).decision.allowed());
}

TEST(PlaySignature, BoundToTheClientAddress) {
  const std::string query = sign_play_query(kSecret, "live", "demo", kNow + 60, "10.0.0.7");
  EXPECT_NE(query.find("&ip=1&"), std::string::npos);
  EXPECT_TRUE(
      check_play_signature(kSecret, true, play(query, "10.0.0.7"), kNow).decision.allowed());
  auto elsewhere = check_play_signature(kSecret, true, play(query, "10.0.0.8"), kNow);
  EXPECT_FALSE(elsewhere.decision.allowed());
  // Dropping ip=1 changes the message: no longer valid.
  std::string unbound = query;
  unbound.erase(unbound.find("&ip=1"), 5);
  EXPECT_FALSE(
      check_play_signature(kSecret, true, play(unbound, "10.0.0.7"), kNow).decision.allowed());
}

}  // namespace
}  // namespace cascade::access
