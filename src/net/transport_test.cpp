#include "net/transport.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <string>

#include "net/tls_context.h"
#include "net/tls_test_util.h"

namespace cascade::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

constexpr std::string_view kRequest = "GET /live/x.flv HTTP/1.1\r\nHost: t\r\n\r\n";

// What the server side saw and did.
struct ServerResult {
  bool done = false;
  boost::system::error_code handshake;
  std::string target;
};

// Serves one connection through an HttpTransport: the handshake, a Beast
// HTTP read, a gathered asio::async_write of three buffers, then close().
awaitable<void> serve(HttpTransport& transport, ServerResult& result) {
  transport.expires_after(std::chrono::seconds(5));
  co_await transport.async_handshake(asio::redirect_error(use_awaitable, result.handshake));
  if (result.handshake) {
    transport.close();
    result.done = true;
    co_return;
  }
  boost::beast::flat_buffer buffer;
  http::request<http::string_body> request;
  co_await http::async_read(transport, buffer, request, use_awaitable);
  result.target = std::string(request.target());
  const std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
  const std::string b(50'000, 'b');
  const std::string c(50'000, 'c');
  std::array<asio::const_buffer, 3> gather = {asio::buffer(a), asio::buffer(b), asio::buffer(c)};
  co_await asio::async_write(transport, gather, use_awaitable);
  transport.close();
  result.done = true;
}

class TransportTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cascade_transport_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    testing_tls::write_self_signed(dir_ / "cert.pem", dir_ / "key.pem", 7, "transport.test");
    auto context = make_server_tls_context(dir_ / "cert.pem", dir_ / "key.pem");
    ASSERT_TRUE(context) << context.error().message;
    server_context_ = *context;
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Accepts one connection and serves it over `tls` (null: plain).
  std::unique_ptr<HttpTransport> accept_and_serve(tcp::socket& client, TlsContextPtr tls,
                                                  ServerResult& result) {
    client.connect(acceptor_.local_endpoint());
    auto transport = std::make_unique<HttpTransport>(acceptor_.accept(), std::move(tls));
    asio::co_spawn(io_, serve(*transport, result), asio::detached);
    return transport;
  }

  fs::path dir_;
  TlsContextPtr server_context_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
};

std::string expected_response() {
  return "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(50'000, 'b') +
         std::string(50'000, 'c');
}

TEST_F(TransportTest, PlainIsAnAsyncStreamForBeastAndAsio) {
  ServerResult result;
  tcp::socket client(io_);
  auto transport = accept_and_serve(client, nullptr, result);
  EXPECT_FALSE(transport->is_tls());
  std::string received;
  asio::co_spawn(
      io_,
      [&]() -> awaitable<void> {
        co_await asio::async_write(client, asio::buffer(kRequest), use_awaitable);
        received.resize(expected_response().size());
        co_await asio::async_read(client, asio::buffer(received), use_awaitable);
      },
      asio::detached);
  io_.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(result.done);
  EXPECT_FALSE(result.handshake);  // plain: a no-op that succeeds
  EXPECT_EQ(result.target, "/live/x.flv");
  EXPECT_EQ(received, expected_response());
}

TEST_F(TransportTest, TlsCarriesTheSameBytes) {
  ServerResult result;
  asio::ssl::context client_context(asio::ssl::context::tls_client);
  asio::ssl::stream<tcp::socket> client(io_, client_context);
  auto transport = accept_and_serve(client.next_layer(), server_context_, result);
  EXPECT_TRUE(transport->is_tls());
  std::string received;
  boost::system::error_code client_error;
  asio::co_spawn(
      io_,
      [&]() -> awaitable<void> {
        co_await client.async_handshake(asio::ssl::stream_base::client, use_awaitable);
        co_await asio::async_write(client, asio::buffer(kRequest), use_awaitable);
        received.resize(expected_response().size());
        co_await asio::async_read(client, asio::buffer(received),
                                  asio::redirect_error(use_awaitable, client_error));
      },
      asio::detached);
  io_.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(result.done);
  EXPECT_FALSE(result.handshake) << result.handshake.message();
  EXPECT_EQ(result.target, "/live/x.flv");
  EXPECT_FALSE(client_error) << client_error.message();
  EXPECT_EQ(received, expected_response());
}

TEST_F(TransportTest, APlainClientFailsTheTlsHandshake) {
  ServerResult result;
  tcp::socket client(io_);
  auto transport = accept_and_serve(client, server_context_, result);
  asio::write(client, asio::buffer(kRequest));
  io_.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(result.done);
  EXPECT_TRUE(result.handshake);
  EXPECT_TRUE(result.target.empty());
}

}  // namespace
}  // namespace cascade::net
