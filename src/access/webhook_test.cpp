#include "access/webhook.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cascade::access {
namespace {

TEST(WebhookUrl, Parses) {
  auto url = parse_webhook_url("http://127.0.0.1:8081/hooks/play?x=1");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8081");
  EXPECT_EQ(url->target, "/hooks/play?x=1");
  url = parse_webhook_url("http://auth.example");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->target, "/");
  url = parse_webhook_url("http://[::1]:9/h");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9");
  for (const char* bad :
       {"https://x/", "ftp://x", "http://", "http://:80/", "http://x:0/", "http://x:99999/",
        "http://x:8a/", "http://u:p@x/", "http://x/a b", "http://[::1/"}) {
    EXPECT_FALSE(parse_webhook_url(bad)) << bad;
  }
}

TEST(WebhookBody, CarriesTheRequest) {
  AccessRequest r;
  r.action = AccessAction::kPublish;
  r.protocol = AccessProtocol::kRtmp;
  r.app = "live";
  r.stream = "demo";
  r.client_ip = "127.0.0.1";
  r.query = "key=k%201&_HLS_msn=4";
  r.connect_query = "key=old&token=t";
  r.session_id = "s7";
  auto json = boost::json::parse(webhook_body(r)).as_object();
  EXPECT_EQ(json["action"], "publish");
  EXPECT_EQ(json["protocol"], "rtmp");
  EXPECT_EQ(json["app"], "live");
  EXPECT_EQ(json["stream"], "demo");
  EXPECT_EQ(json["client_ip"], "127.0.0.1");
  EXPECT_EQ(json["session_id"], "s7");
  EXPECT_EQ(json["query"], "key=k%201&_HLS_msn=4");
  auto params = json["params"].as_object();
  EXPECT_EQ(params["key"], "k 1");
  EXPECT_EQ(params["token"], "t");
  EXPECT_FALSE(params.contains("_HLS_msn"));
}

Result<WebhookResponse> answer(unsigned status, std::string body = {}, std::string location = {}) {
  return WebhookResponse{status, std::move(location), std::move(body)};
}

TEST(WebhookDecision, MapsAnswers) {
  using Kind = AccessDecision::Kind;
  EXPECT_EQ(decision_from_webhook(answer(200)).kind, Kind::kAllow);
  EXPECT_EQ(decision_from_webhook(answer(204)).kind, Kind::kAllow);
  EXPECT_EQ(decision_from_webhook(answer(200, "not json")).kind, Kind::kAllow);
  auto redirect = decision_from_webhook(answer(302, "", "rtmp://edge/live/demo"));
  EXPECT_EQ(redirect.kind, Kind::kRedirect);
  EXPECT_EQ(redirect.redirect_url, "rtmp://edge/live/demo");
  redirect = decision_from_webhook(answer(200, R"({"redirect":"http://edge/live/demo.flv"})"));
  EXPECT_EQ(redirect.kind, Kind::kRedirect);
  EXPECT_EQ(redirect.redirect_url, "http://edge/live/demo.flv");
  EXPECT_EQ(decision_from_webhook(answer(302)).kind, Kind::kDeny);  // no Location
  EXPECT_EQ(decision_from_webhook(answer(302, "", "http://x/\r\nSet-Cookie: a")).kind, Kind::kDeny);
  auto denied = decision_from_webhook(answer(403, R"({"reason":"banned"})"));
  EXPECT_EQ(denied.kind, Kind::kDeny);
  EXPECT_NE(denied.reason.find("banned"), std::string::npos);
  EXPECT_NE(denied.reason.find("403"), std::string::npos);
  EXPECT_EQ(decision_from_webhook(answer(500)).kind, Kind::kDeny);
  EXPECT_EQ(decision_from_webhook(answer(100)).kind, Kind::kDeny);
  auto failed = decision_from_webhook(Result<WebhookResponse>(Error{"timeout"}));
  EXPECT_EQ(failed.kind, Kind::kDeny);
  EXPECT_NE(failed.reason.find("timeout"), std::string::npos);
}

}  // namespace
}  // namespace cascade::access
