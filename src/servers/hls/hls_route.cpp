#include "servers/hls/hls_route.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "access/http_refusal.h"
#include "access/playlist_tokens.h"
#include "core/log.h"
#include "core/metrics.h"
#include "live/stream_key.h"
#include "net/http_date.h"
#include "protocols/hls/hls_request.h"

namespace cascade::servers {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
namespace http = net::http;

namespace {

struct Counters {
  Counter& playlists = Metrics::global().counter("cascade_hls_playlist_requests_total");
  Counter& media = Metrics::global().counter("cascade_hls_media_requests_total");
  Counter& not_found = Metrics::global().counter("cascade_hls_not_found_total");
  Counter& bad = Metrics::global().counter("cascade_hls_bad_requests_total");
  Counter& timed_out = Metrics::global().counter("cascade_hls_blocking_timeouts_total");
  Gauge& waiting = Metrics::global().gauge("cascade_hls_waiting_requests");
  Counter& refused = Metrics::global().counter("cascade_hls_refused_total");
};

Counters& counters() {
  static Counters c;
  return c;
}

// The head of a response with `served`'s validators (RFC 9110 8.8) and
// cache policy: a blocking reload is never cached (RFC 8216bis 6.2.5.2).
net::HttpResponseHeader served_header(const net::HttpConnection& connection,
                                      const net::HttpRequest& request, const Served& served,
                                      bool blocking, bool not_modified) {
  auto header = connection.header(
      request, not_modified ? http::status::not_modified : http::status::ok, served.content_type);
  header.set(http::field::cache_control, blocking ? "no-store" : served.cache_control);
  header.set(http::field::etag, served.etag);
  header.set(http::field::last_modified, net::format_http_date(served.modified_unix_s));
  return header;
}

}  // namespace

net::HttpRoute make_hls_route(HlsRegistry& registry, access::AccessControl& access) {
  return [&registry, &access](net::HttpConnection& connection,
                              net::HttpRequest& request) -> awaitable<net::HttpOutcome> {
    const std::string_view target_text = request.target();
    const size_t question = target_text.find('?');
    const std::string_view path = target_text.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target_text.substr(question + 1);
    auto target = hls::parse_hls_path(path);
    if (!target) co_return net::HttpOutcome::kNotMine;
    auto key = live::make_stream_key(target->app, target->stream);
    if (!key) co_return net::HttpOutcome::kNotMine;
    Counters& c = counters();
    (hls::is_playlist(target->resource) ? c.playlists : c.media).inc();

    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      co_await connection.send_text(request, http::status::method_not_allowed,
                                    "method not allowed\n", "");
      co_return net::HttpOutcome::kResponded;
    }
    // The play token to carry into this playlist's URIs; empty when play
    // is open (the prepared fast path below stays as it is).
    std::string token;
    if (!access.open(access::AccessAction::kPlay, target->app)) {
      access::AccessRequest checked = access::http_play_request(
          connection, access::AccessProtocol::kHls, target->app, target->stream, target_text);
      access::AccessResult result = co_await access.check(std::move(checked));
      if (!result.decision.allowed()) {
        c.refused.inc();
        log::get("hls").info("[{} {}] refused: {}", connection.peer(), key.value(),
                             result.decision.reason);
        co_await access::send_http_refusal(connection, request, result.decision);
        co_return net::HttpOutcome::kResponded;
      }
      if (hls::is_playlist(target->resource)) token = std::move(result.token);
    }
    auto directives = hls::parse_delivery_directives(query);
    if (!directives) {
      c.bad.inc();
      const std::string message = directives.error().message + "\n";
      co_await connection.send_text(request, http::status::bad_request, message, "no-store");
      co_return net::HttpOutcome::kResponded;
    }
    auto stream = registry.find(key.value());
    if (!stream) {
      c.not_found.inc();
      co_await connection.send_text(request, http::status::not_found, "no such live stream\n",
                                    "max-age=1");
      co_return net::HttpOutcome::kResponded;
    }

    HlsReply reply;
    std::string error;
    // Most requests are answered at once; a waiter (and its timer) is made
    // only for one that must wait, and registered by the second resolve().
    std::shared_ptr<HlsWaiter> waiter;
    std::chrono::steady_clock::time_point deadline;
    bool may_wait = true;
    HlsLookup result;
    while (true) {
      result = stream->resolve(*target, *directives, may_wait, waiter, reply, error);
      if (result != HlsLookup::kWait) break;
      if (!waiter) {
        deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(stream->wait_limit_ms());
        connection.release_read_buffer();  // held requests keep no read buffer
        waiter = std::make_shared<HlsWaiter>(
            boost::asio::steady_timer(connection.socket().get_executor()), connection.worker());
        continue;
      }
      c.waiting.add(1);
      waiter->timer.expires_at(deadline);
      boost::system::error_code ec;
      co_await waiter->timer.async_wait(boost::asio::redirect_error(use_awaitable, ec));
      c.waiting.sub(1);
      if (!ec) {  // the deadline passed: answer with what there is
        stream->remove_waiter(waiter);
        may_wait = false;
      }
    }

    switch (result) {
      case HlsLookup::kFound:
        break;
      case HlsLookup::kBadRequest:
        c.bad.inc();
        error += "\n";
        co_await connection.send_text(request, http::status::bad_request, error, "no-store");
        co_return net::HttpOutcome::kResponded;
      case HlsLookup::kTimedOut:
        // 8216bis 6.2.5.2: not available within three Target Durations.
        c.timed_out.inc();
        co_await connection.send_text(request, http::status::service_unavailable,
                                      "the requested segment or part did not arrive in time\n",
                                      "no-store");
        co_return net::HttpOutcome::kResponded;
      default:
        c.not_found.inc();
        co_await connection.send_text(request, http::status::not_found, "not found\n", "max-age=1");
        co_return net::HttpOutcome::kResponded;
    }

    const Served& served = *reply.served;
    if (!token.empty()) {
      // A checked playlist: the token goes into every URI (segments, parts,
      // init, preload hints, rendition reports, variants). Rendered per
      // request; the URL (token included) names this body, so the ETag of
      // the shared playlist still identifies it.
      const std::string_view text(reinterpret_cast<const char*>(served.body.data()),
                                  served.body.size());
      SharedBytes body = SharedBytes::copy_of(access::append_query_to_playlist_uris(text, token));
      const auto none_match = request[http::field::if_none_match];
      const bool unchanged = !none_match.empty() && none_match == served.etag;
      auto header = served_header(connection, request, served, reply.blocking, unchanged);
      if (unchanged) body = SharedBytes();
      co_await connection.send(request, std::move(header), std::move(body));
      co_return net::HttpOutcome::kResponded;
    }
    const auto if_none_match = request[http::field::if_none_match];
    if (if_none_match.empty() && request.version() == 11 && request.keep_alive() &&
        request.method() == http::verb::get) {
      // The common case: the prepared head and body, as they are.
      SharedBytes head = reply.blocking ? served.blocking_head : served.head;
      if (served.body_file) {
        Status sent = co_await connection.send_prepared(std::move(head), served.body_file);
        co_return sent ? net::HttpOutcome::kResponded : net::HttpOutcome::kClose;
      }
      SharedBytes body = served.body;
      co_await connection.send_prepared(std::move(head), std::move(body));
      co_return net::HttpOutcome::kResponded;
    }
    const bool not_modified = !if_none_match.empty() && if_none_match == served.etag;
    auto header = served_header(connection, request, served, reply.blocking, not_modified);
    // Arguments of co_await are plain locals: GCC 12 destroys some
    // temporaries in a co_await full-expression twice.
    if (served.body_file && !not_modified) {
      co_await connection.send_header(request, std::move(header), served.body_file.size());
      if (request.method() == http::verb::head) co_return net::HttpOutcome::kResponded;
      Status sent = co_await connection.send_body(served.body_file);
      co_return sent ? net::HttpOutcome::kResponded : net::HttpOutcome::kClose;
    }
    SharedBytes body;
    if (!not_modified) body = served.body;
    co_await connection.send(request, std::move(header), std::move(body));
    co_return net::HttpOutcome::kResponded;
  };
}

}  // namespace cascade::servers
