// cascade: a live and on-demand video streaming server.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/config.h"
#include "app/server.h"
#include "app/welcome.h"
#include "core/log.h"

#ifndef CASCADE_VERSION
#define CASCADE_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace cascade;
  CLI::App cli{"Cascade: live and on-demand video streaming server"};
  std::string config_path, rtmp_listen, http_listen, log_level;
  std::optional<uint32_t> workers;
  cli.add_option("--config", config_path, "TOML config file (default: built-in defaults)");
  cli.add_option("--rtmp", rtmp_listen, "RTMP listen address, ADDR:PORT (default 0.0.0.0:1935)");
  cli.add_option("--http", http_listen, "HTTP listen address, ADDR:PORT (default 0.0.0.0:8080)");
  cli.add_option("--workers", workers, "worker threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off");
  cli.set_version_flag("--version", std::string("cascade ") + CASCADE_VERSION);
  CLI11_PARSE(cli, argc, argv);

  // The config file with the command line's overrides, validated; read again
  // on each reload (SIGHUP, POST /api/v1/admin/reload).
  auto load = [=]() -> Result<app::Config> {
    app::Config config;
    if (!config_path.empty()) {
      auto loaded = app::load_config_file(config_path);
      if (!loaded) return make_error("config error: {}", loaded.error().message);
      config = std::move(loaded.value());
    }
    if (!rtmp_listen.empty()) config.rtmp.listen = rtmp_listen;
    if (!http_listen.empty()) config.http.listen = http_listen;
    if (workers) config.server.workers = *workers;
    if (!log_level.empty()) config.server.log_level = log_level;
    // Command-line values go through the same validation as the file's.
    auto checked = app::parse_config(app::to_toml(config), "command line");
    if (!checked) return checked.error();
    return config;
  };
  auto loaded = load();
  if (!loaded) {
    std::fprintf(stderr, "cascade: %s\n", loaded.error().message.c_str());
    return 2;
  }
  app::Config config = std::move(loaded.value());
  log::set_level(config.server.log_level);
  uint64_t fd_limit = app::raise_fd_limit();

  app::Server server(config, config_path.empty() ? app::ConfigSource{} : app::ConfigSource(load));
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "cascade: %s\n", started.error().message.c_str());
    return 1;
  }
  log::get("server").info("cascade {} (fd limit {})", CASCADE_VERSION, fd_limit);
  std::cout << app::welcome_text(server.rtmp_endpoint(), server.http_endpoint()) << std::flush;
  // 0 once drained (or at the drain deadline); 128 + signal on a second
  // SIGTERM/SIGINT.
  const int code = server.run_until_signal();
  spdlog::shutdown();
  return code;
}
