#include "vod/vod_directory.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/percent_encoding.h"
#include "vod/directory_listing.h"
#include "vod/vod_path.h"

namespace cascade::vod {

using boost::asio::awaitable;
namespace http = net::http;

awaitable<net::HttpOutcome> answer_directory_listing(net::HttpConnection& connection,
                                                     net::HttpRequest& request, int root_fd,
                                                     const VodSettings& settings,
                                                     std::string_view url_path) {
  static Counter& listed = Metrics::global().counter("cascade_vod_listings_total");
  static Counter& refused = Metrics::global().counter("cascade_vod_refused_total");
  // The directory under the root: "" for the root itself, else checked as
  // any file path is (no "..", no encoded tricks).
  const std::string_view inside =
      url_path.substr(settings.prefix.size(), url_path.size() - settings.prefix.size() - 1);
  std::string relative;
  if (!inside.empty()) {
    auto checked = relative_path_from_url(inside);
    if (!checked) {
      refused.inc();
      log::get("vod").info("[{}] refused {}: {}", connection.peer(), url_path,
                           checked.error().message);
      const std::string message = "bad path: " + checked.error().message + "\n";
      co_await connection.send_text(request, http::status::bad_request, message);
      co_return net::HttpOutcome::kResponded;
    }
    relative = std::move(checked.value());
  }
  auto read = read_directory_beneath(root_fd, relative);
  if (auto* error = std::get_if<OpenError>(&read)) {
    if (!error->not_found) {
      refused.inc();
      log::get("vod").info("[{}] refused {}: {}", connection.peer(), url_path, error->message);
    }
    co_await connection.send_text(
        request, error->not_found ? http::status::not_found : http::status::forbidden,
        error->not_found ? "not found\n" : "forbidden\n");
    co_return net::HttpOutcome::kResponded;
  }
  listed.inc();
  std::string display_path;
  if (!percent_decode(url_path, display_path)) display_path = std::string(url_path);
  const std::string page =
      render_directory_listing(display_path, std::get<DirectoryListing>(read), !inside.empty());
  auto header = connection.header(request, http::status::ok, "text/html; charset=utf-8");
  // A listing changes whenever the directory does.
  header.set(http::field::cache_control, "no-cache");
  const SharedBytes body = SharedBytes::copy_of(page);
  co_await connection.send(request, std::move(header), body);
  co_return net::HttpOutcome::kResponded;
}

awaitable<net::HttpOutcome> redirect_to_directory(net::HttpConnection& connection,
                                                  net::HttpRequest& request,
                                                  std::string_view url_path) {
  const std::string location = std::string(url_path) + "/";
  net::HttpResponse response = connection.response(request, http::status::moved_permanently,
                                                   "text/plain; charset=utf-8", "a directory\n");
  response.set(http::field::location, location);
  co_await connection.send(std::move(response));
  co_return net::HttpOutcome::kResponded;
}

}  // namespace cascade::vod
