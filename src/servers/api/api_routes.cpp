#include "servers/api/api_routes.h"

#include <boost/json.hpp>

#include "core/metrics.h"

namespace cascade::servers {

using boost::asio::awaitable;
namespace http = net::http;

namespace {

boost::json::object stream_json(const live::StreamStats& s) {
  boost::json::object video, audio;
  if (s.info.has_video) {
    video = {{"codec", s.info.video_codec}, {"width", s.info.width}, {"height", s.info.height}};
  }
  if (s.info.has_audio) {
    audio = {{"codec", s.info.audio_codec},
             {"sample_rate", s.info.audio_sample_rate},
             {"channels", s.info.audio_channels}};
  }
  return {{"key", s.key},
          {"publishing", s.publishing},
          {"viewers", s.viewers},
          {"frames_in", s.frames_in},
          {"bytes_in", s.bytes_in},
          {"publisher_sessions", s.publisher_sessions},
          {"uptime_ms", s.uptime_ms},
          {"video", s.info.has_video ? boost::json::value(video) : boost::json::value(nullptr)},
          {"audio", s.info.has_audio ? boost::json::value(audio) : boost::json::value(nullptr)}};
}

}  // namespace

net::HttpRoute make_api_route(live::Hub& hub, std::function<bool()> draining) {
  return [&hub, draining](net::HttpConnection& connection,
                          net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    std::string_view path = request.target();
    path = path.substr(0, path.find('?'));
    std::string body;
    std::string_view type;
    http::status status = http::status::ok;
    if (path == "/api/v1/streams") {
      boost::json::array streams;
      for (const auto& s : hub.stats()) streams.push_back(stream_json(s));
      body = boost::json::serialize(boost::json::object{{"streams", streams}});
      type = "application/json";
    } else if (path == "/metrics") {
      body = Metrics::global().render_prometheus();
      type = "text/plain; version=0.0.4";
    } else if (path == "/healthz") {
      const bool stopping = draining && draining();
      body = stopping ? "draining\n" : "ok\n";
      status = stopping ? http::status::service_unavailable : http::status::ok;
      type = "text/plain";
    } else {
      co_return net::HttpOutcome::kNotMine;
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      auto res = connection.response(request, http::status::method_not_allowed, "text/plain",
                                     "method not allowed\n");
      co_await connection.send(std::move(res));
      co_return net::HttpOutcome::kResponded;
    }
    auto res = connection.response(request, status, type, std::move(body));
    res.set(http::field::cache_control, "no-store");  // HEAD: response() dropped the body
    co_await connection.send(std::move(res));
    co_return net::HttpOutcome::kResponded;
  };
}

}  // namespace cascade::servers
