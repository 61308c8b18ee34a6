#include "app/welcome.h"

#include <fmt/format.h>

namespace cascade::app {
namespace {

// A wildcard listen address is reached as localhost from this machine.
std::string host_port(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  std::string host = address.is_unspecified() ? "localhost"
                     : address.is_v6()        ? "[" + address.to_string() + "]"
                                              : address.to_string();
  return fmt::format("{}:{}", host, endpoint.port());
}

}  // namespace

std::string welcome_text(const std::optional<boost::asio::ip::tcp::endpoint>& rtmp,
                         const std::optional<boost::asio::ip::tcp::endpoint>& http) {
  std::string out = "\nCascade is running.\n";
  if (rtmp) {
    std::string base = "rtmp://" + host_port(*rtmp) + "/live";
    out += fmt::format(
        "\nPublish (stream key 'demo' in app 'live'):\n"
        "  ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -g 60 -c:a aac -f flv {}/demo\n"
        "  OBS: Settings > Stream > Service: Custom, Server: {}, Stream Key: demo\n"
        "       (Output: x264, keyframe interval 2 s, AAC audio)\n",
        base, base);
    out += fmt::format("\nWatch over RTMP:\n  ffplay {}/demo\n", base);
  }
  if (http) {
    std::string base = "http://" + host_port(*http);
    out += fmt::format(
        "\nWatch over HTTP-FLV:\n  ffplay {}/live/demo.flv\n"
        "  (browsers: mpegts.js with the same URL)\n"
        "\nStats: {}/api/v1/streams   Metrics: {}/metrics\n",
        base, base, base);
  }
  return out + "\n";
}

}  // namespace cascade::app
